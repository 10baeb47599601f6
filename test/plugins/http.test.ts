import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, ROOT, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { type FakePlatform, fakePlatform, PNG } from './http-fake-platform.js'

const KEY_VAR = 'HTTP_TEST_PLATFORM_KEY'
const KEY = 'sk-test-4f8a1c9e2b7d6a3f'
const PNG_DATA_URL = `data:image/png;base64,${PNG.toString('base64')}`

/** Where a result item came from: Gantry keeps its own copy of result media and names the platform's url `sourceUrl`. */
const origin = (item: { url: string; sourceUrl?: string }) => item.sourceUrl ?? item.url

const definitions = (platformUrl: string) => `
kind: Executor
id: platform
provider: http
maxConcurrency: 8
config:
  baseUrl: ${platformUrl}
  headers: { Authorization: "Bearer \${env:${KEY_VAR}}" }
  timeout: 5s
  mediaHosts: [127.0.0.1]
---
kind: Ability
id: clean
executor: platform
input:
  type: object
  properties:
    imageUrl: { type: string }
    strength: { type: number }
    mode: { type: string }
    traceId: { type: string }
pricing: { base: 1, usage: { perOutputToken: 1, perSecond: 10, reserve: 100 }, allowOverEstimate: true }
config:
  request:
    method: POST
    url: /v1/clean
    query: { mode: "{{inputs.mode}}" }
    headers: { X-Trace: "{{inputs.traceId}}" }
    json: { image_url: "{{inputs.imageUrl}}", strength: "{{inputs.strength}}", note: "trace {{inputs.traceId}}" }
  response:
    images: data.images
    texts: data.text
    usage: { outputTokens: usage.completion_tokens, seconds: data.duration }
---
kind: Ability
id: upload
executor: platform
input: { type: object, properties: { image: { type: string }, prompt: { type: string } } }
config:
  request: { url: /v1/upload, multipart: { image: "{{inputs.image}}", prompt: "{{inputs.prompt}}" } }
  response: { images: data.images }
---
kind: Ability
id: upload-from-cdn
executor: platform
input: { type: object, properties: { image: { type: string } } }
config:
  allowPrivateFileUrls: true
  request: { url: /v1/upload, multipart: { image: "{{inputs.image}}" } }
  response: { images: data.images }
---
kind: Ability
id: reject
executor: platform
retry: { max: 2, backoff: 50ms }
config:
  request: { method: POST, url: /v1/reject, json: { strength: 7 } }
---
kind: Ability
id: flaky
executor: platform
retry: { max: 2, backoff: 50ms }
config:
  request: { method: POST, url: /v1/flaky, json: {} }
  response: { texts: data.text }
---
kind: Ability
id: busy
executor: platform
config:
  request: { method: POST, url: /v1/busy, json: {} }
  response: { texts: data.text }
---
kind: Ability
id: render
executor: platform
timeout: 20s
poll: { interval: 50ms }
input: { type: object, properties: { prompt: { type: string }, steps: { type: integer } } }
config:
  async: true
  request: { method: POST, url: /v1/tasks, json: { prompt: "{{inputs.prompt}}", steps: "{{inputs.steps}}" } }
  submitPoll:
    idPath: data.task_id
    poll: { method: GET, url: "/v1/tasks/{{externalId}}" }
    statusPath: data.status
    statusMap: { running: [queued, processing], succeeded: [done], failed: [failed, canceled] }
    progressPath: data.progress
    stagePath: data.stage
    etaPath: data.eta_seconds
    errorPath: data.error.message
    result: { images: data.result.images }
    cancel: { method: POST, url: "/v1/tasks/{{externalId}}/cancel" }
---
kind: Ability
id: render-without-async
executor: platform
config:
  request: { method: POST, url: /v1/tasks, json: {} }
  submitPoll: { idPath: data.task_id, poll: { url: "/v1/tasks/{{externalId}}" }, statusPath: data.status }
`

describe('the http provider against a REST platform described in YAML', () => {
  let platform: FakePlatform
  let g: TestGantry

  beforeAll(async () => {
    platform = await fakePlatform(KEY)
    // ${env:} is read from this process's environment when the definitions load
    process.env[KEY_VAR] = KEY
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/http/index.ts') },
      files: { 'platform.yaml': definitions(platform.url) },
    })
    await g.api('/api/admin/wallets/admin/grant', { body: { points: 1000, reason: 'test' } })
  })
  afterAll(async () => {
    await g?.stop()
    await platform?.close()
    delete process.env[KEY_VAR]
  })

  it('sends the templated request and maps images, texts and usage from the answer', async () => {
    const res = await g.api('/api/abilities/clean/invoke', {
      body: {
        inputs: { imageUrl: 'https://shop.example/shoe.jpg', strength: 0.7, mode: 'fast', traceId: 't-1' },
      },
    })
    expect(res.status).toBe(200)
    const out = `${platform.url}/out`
    expect(res.body.images.map(origin)).toEqual([
      `${out}/a.png`,
      `${out}/b.webp`,
      `${out}/c.png`,
      `${out}/d.png`,
    ])
    expect(res.body.images[0]).toMatchObject({ width: 512, height: 512 })
    expect(res.body.images[1]).toMatchObject({ mimeType: 'image/webp' })
    expect(res.body.texts).toEqual(['cleaned'])
    // usage priced: base 1 + 12 output tokens x 1 + 3 seconds x 10
    expect(res.body.cost.points).toBe(43)

    const [seen] = platform.seen('/v1/clean')
    expect(seen.json).toEqual({
      image_url: 'https://shop.example/shoe.jpg',
      strength: 0.7,
      note: 'trace t-1',
    })
    expect(seen.query).toEqual({ mode: 'fast' })
    expect(seen.headers['x-trace']).toBe('t-1')
    expect(seen.headers.authorization).toBe(`Bearer ${KEY}`)
  })

  it('leaves out of the json and the query what the inputs do not give', async () => {
    const res = await g.api('/api/abilities/clean/invoke', {
      body: { inputs: { imageUrl: 'https://shop.example/hat.jpg' } },
    })
    expect(res.status).toBe(200)
    const seen = platform.seen('/v1/clean').at(-1)!
    expect(seen.json).toEqual({ image_url: 'https://shop.example/hat.jpg', note: 'trace ' })
    expect(seen.query).toEqual({})
  })

  it('never shows the api key in the raw answer or the invocation log', async () => {
    const res = await g.api('/api/abilities/clean/invoke', { body: { inputs: { imageUrl: 'x.jpg' } } })
    expect(res.body.raw.data.text).toBe('cleaned')
    expect(JSON.stringify(res.body)).not.toContain(KEY)
    const logs = await g.api('/api/admin/abilities/clean/logs')
    expect(logs.body.items.length).toBeGreaterThan(0)
    expect(JSON.stringify(logs.body)).not.toContain(KEY)
  })

  it('uploads a data url as a file part of a multipart request', async () => {
    const res = await g.api('/api/abilities/upload/invoke', {
      body: { inputs: { image: PNG_DATA_URL, prompt: 'white background' } },
    })
    expect(res.status).toBe(200)
    expect(res.body.images.map(origin)).toEqual([`${platform.url}/out/uploaded.png`])
    const [seen] = platform.seen('/v1/upload')
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
    expect(seen.form?.prompt).toBe('white background')
    expect(seen.form?.image).toMatchObject({ filename: 'image.png', type: 'image/png', size: PNG.length })
  })

  it('downloads an http url into a file part only where the ability allows private addresses', async () => {
    const source = `${platform.url}/files/source.png`
    const allowed = await g.api('/api/abilities/upload-from-cdn/invoke', {
      body: { inputs: { image: source } },
    })
    expect(allowed.status).toBe(200)
    const seen = platform.seen('/v1/upload').at(-1)!
    expect(seen.form?.image).toMatchObject({ filename: 'source.png', type: 'image/png', size: PNG.length })
    expect((seen.form!.image as { bytes: Buffer }).bytes.equals(PNG)).toBe(true)

    const uploads = platform.seen('/v1/upload').length
    const refused = await g.api('/api/abilities/upload/invoke', { body: { inputs: { image: source } } })
    expect(refused.status).toBe(502)
    expect(refused.body.error.message).toMatch(/loopback or private address/)
    expect(platform.seen('/v1/upload')).toHaveLength(uploads)
  })

  it('fails a task on a 4xx at once, with the status and the answer, even with retries left', async () => {
    const created = await g.api('/api/ability-tasks', { body: { abilityId: 'reject', inputs: {} } })
    expect(created.status).toBe(202)
    const task = await waitForTask(g, created.body.id)
    expect(task).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'PROVIDER_ERROR' })
    expect(task.errorMessage).toContain('POST /v1/reject answered HTTP 400')
    expect(task.errorMessage).toContain('strength must be between 0 and 1')
    // the platform echoed the key; the message masks it
    expect(task.errorMessage).not.toContain(KEY)
    expect(platform.seen('/v1/reject')).toHaveLength(1)
  })

  it('retries a 5xx through the ability retry policy', async () => {
    const created = await g.api('/api/ability-tasks', { body: { abilityId: 'flaky', inputs: {} } })
    const task = await waitForTask(g, created.body.id)
    expect(task).toMatchObject({ status: 'succeeded', attempts: 2 })
    expect(task.resultPayload.texts).toEqual(['second time lucky'])
    expect(platform.seen('/v1/flaky')).toHaveLength(2)
  })

  it('waits out a 429 Retry-After and asks again within the same attempt', async () => {
    const res = await g.api('/api/abilities/busy/invoke', { body: { inputs: {} } })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ status: 'succeeded', attempts: 1, texts: ['served after waiting'] })
    const [first, second] = platform.seen('/v1/busy')
    expect(second.at - first.at).toBeGreaterThanOrEqual(900)
  })

  it('submits a job, polls it through queued and processing to done, and maps the result', async () => {
    const created = await g.api('/api/ability-tasks', {
      body: { abilityId: 'render', inputs: { prompt: 'a fox', steps: 3 } },
    })
    expect(created.status).toBe(202)
    const task = await waitForTask(g, created.body.id)
    expect(task.status).toBe('succeeded')
    const job = platform.jobs.get(task.externalId)
    expect(job).toBeDefined()
    expect(job!.served).toEqual(['queued', 'processing', 'processing', 'processing', 'done'])
    expect(task.resultPayload.images.map(origin)).toEqual([`${platform.url}/out/${task.externalId}.png`])
    expect(platform.seen('/v1/tasks')[0].json).toEqual({ prompt: 'a fox', steps: 3 })
  })

  it('shows the job progress, stage and eta on the task while it runs', async () => {
    const created = await g.api('/api/ability-tasks', {
      body: { abilityId: 'render', inputs: { prompt: 'a long fox', steps: 10_000 } },
    })
    const running = await eventually(async () => {
      const res = await g.api(`/api/ability-tasks/${created.body.id}`)
      return res.body.stage === 'rendering' && res.body.progress > 0 ? res.body : undefined
    })
    expect(running).toMatchObject({ status: 'running', stage: 'rendering', eta: 7 })
    expect(running.progress).toBeLessThan(100)
    expect(running.externalId).toMatch(/^job-/)
    platform.finish(running.externalId)
    const task = await waitForTask(g, created.body.id)
    expect(task).toMatchObject({ status: 'succeeded', progress: 100 })
  })

  it('asks the platform to cancel the job when the task is canceled', async () => {
    const created = await g.api('/api/ability-tasks', {
      body: { abilityId: 'render', inputs: { prompt: 'never mind', steps: 10_000 } },
    })
    const running = await eventually(async () => {
      const res = await g.api(`/api/ability-tasks/${created.body.id}`)
      return res.body.externalId ? res.body : undefined
    })
    const canceled = await g.api(`/api/ability-tasks/${created.body.id}/cancel`, { method: 'POST' })
    expect(canceled.body.status).toBe('canceled')
    await eventually(() => platform.seen(`/v1/tasks/${running.externalId}/cancel`).length === 1)
    expect(platform.jobs.get(running.externalId)?.canceled).toBe(true)
  })

  it('refuses a sync invoke of a submit-then-poll ability that does not say async: true', async () => {
    const res = await g.api('/api/abilities/render-without-async/invoke', { body: { inputs: {} } })
    expect(res.body.status).toBe('failed')
    expect(res.body.attempts).toBe(1)
    expect(res.body.error.message).toContain('set `async: true`')
  })

  it('reports a misspelled config field when the definitions load', async () => {
    await g.writeDefinition(
      'typo.yaml',
      'kind: Ability\nid: typo\nexecutor: platform\nconfig:\n  request: { url: /v1/clean }\n  respnse: { texts: data.text }\n',
    )
    const errors = await eventually(async () => {
      const res = await g.api('/api/admin/definitions/errors')
      return res.body.items.length ? res.body.items : undefined
    })
    expect(errors[0].location).toMatch(/typo\.yaml:\d+:\d+$/)
    expect(errors[0].message).toContain('respnse')
  })
})
