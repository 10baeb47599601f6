import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry } from '../helpers.js'

const DEFS = `
kind: Executor
id: mock-exec
provider: mock
maxConcurrency: 4
timeout: 10s
---
kind: Ability
id: echo
name: Echo
description: Echoes
executor: mock-exec
type: text
input:
  type: object
  required: [text]
  properties:
    text: { type: string, maxLength: 20 }
    tone: { type: string, default: calm }
pricing:
  base: 18
  add:
    - { when: { tone: loud }, points: 6 }
---
kind: Ability
id: broken
name: Broken
executor: mock-exec
config: { fail: "the model is on fire" }
---
kind: Ability
id: flaky
name: Flaky
executor: mock-exec
retry: { max: 2, backoff: 10ms }
config: { failTimes: 2 }
`

describe('synchronous invoke', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({
      files: { 'defs.yaml': DEFS, 'lost.yaml': 'kind: Ability\nid: lost\nexecutor: nowhere\n' },
    })
    await g.api('/api/admin/wallets/admin/grant', { body: { points: 10_000, reason: 'tests' } })
  })
  afterAll(() => g.stop())

  it('lists abilities without a token, with their schema, defaults and pricing', async () => {
    const res = await g.api('/api/abilities', { token: null })
    expect(res.status).toBe(200)
    const echo = res.body.abilities.find((a: { id: string }) => a.id === 'echo')
    expect(echo).toMatchObject({
      id: 'echo',
      name: 'Echo',
      type: 'text',
      executorId: 'mock-exec',
      provider: 'mock',
      defaults: { tone: 'calm' },
      pricing: { base: 18 },
    })
    expect(echo.input.required).toEqual(['text'])
    const one = await g.api('/api/abilities/echo', { token: null })
    expect(one.body.id).toBe('echo')
  })

  it('runs the call on the pool and answers with texts, cost, logId and duration; defaults are applied', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: { inputs: { text: 'hi' } } })
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('succeeded')
    expect(JSON.parse(res.body.texts[0])).toEqual({ text: 'hi', tone: 'calm' })
    expect(res.body.cost).toEqual({ points: 18 })
    expect(res.body.logId).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.body.durationMs).toBeGreaterThanOrEqual(0)
    expect(res.body).toMatchObject({ images: [], videos: [], assets: [] })
  })

  it('prices by the rules that match the inputs', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: { inputs: { text: 'hi', tone: 'loud' } } })
    expect(res.body.cost).toEqual({ points: 24 })
  })

  it('refuses inputs that break the schema with VALIDATION_FAILED naming the field', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: { inputs: { text: 'x'.repeat(21) } } })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: '/text' })])
    const missing = await g.api('/api/abilities/echo/invoke', { body: { inputs: {} } })
    expect(missing.status).toBe(400)
  })

  it('refuses unknown payload fields (a typo such as `input`)', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: { input: { text: 'hi' } } })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain("unknown field 'input'")
  })

  it('answers 404 ABILITY_NOT_FOUND and 400 ABILITY_EXECUTOR_NOT_CONFIGURED', async () => {
    const missing = await g.api('/api/abilities/nope/invoke', { body: { inputs: {} } })
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('ABILITY_NOT_FOUND')
    const override = await g.api('/api/abilities/echo/invoke', {
      body: { inputs: { text: 'a' }, executorId: 'ghost' },
    })
    expect(override.status).toBe(400)
    expect(override.body.error.code).toBe('ABILITY_EXECUTOR_NOT_CONFIGURED')
  })

  it('a provider error fails the call with PROVIDER_ERROR, its message, and a log', async () => {
    const res = await g.api('/api/abilities/broken/invoke', { body: {} })
    expect(res.status).toBe(502)
    expect(res.body.status).toBe('failed')
    expect(res.body.error).toEqual({ code: 'PROVIDER_ERROR', message: 'the model is on fire' })
    expect(res.body.cost).toEqual({ points: 0 })
    const logs = await g.api('/api/admin/abilities/broken/logs')
    expect(logs.body.items[0]).toMatchObject({
      logId: res.body.logId,
      status: 'failed',
      errorCode: 'PROVIDER_ERROR',
      errorDetail: 'the model is on fire',
    })
  })

  it('retries a retryable failure with backoff and reports the attempts', async () => {
    const res = await g.api('/api/abilities/flaky/invoke', { body: {} })
    expect(res.status).toBe(200)
    expect(res.body.attempts).toBe(3)
    const logs = await g.api('/api/admin/abilities/flaky/logs')
    expect(logs.body.items.map((l: { status: string; attempt: number }) => [l.attempt, l.status])).toEqual([
      [3, 'succeeded'],
      [2, 'failed'],
      [1, 'failed'],
    ])
  })

  it('malformed JSON is a 400 with a code, and the server keeps serving', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: '{"inputs": {"text": ' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
    expect(res.body.error.message).toMatch(/malformed JSON/)
    expect((await g.api('/healthz', { token: null })).status).toBe(200)
  })

  it('pages invocation logs newest first with a cursor', async () => {
    for (let i = 0; i < 5; i++)
      await g.api('/api/abilities/echo/invoke', { body: { inputs: { text: `n${i}` } } })
    const first = await g.api('/api/admin/abilities/echo/logs?limit=2')
    expect(first.body.items).toHaveLength(2)
    expect(first.body.nextCursor).toBeTruthy()
    const second = await g.api(`/api/admin/abilities/echo/logs?limit=2&cursor=${first.body.nextCursor}`)
    const texts = [...first.body.items, ...second.body.items].map(
      (l: { request: { inputs: { text: string } } }) => l.request.inputs.text,
    )
    expect(texts).toEqual(['n4', 'n3', 'n2', 'n1'])
    const bad = await g.api('/api/admin/abilities/echo/logs?limit=0')
    expect(bad.status).toBe(400)
  })

  it('shows executors with running and queued counts', async () => {
    const list = await g.api('/api/admin/executors')
    expect(list.body.items).toEqual([
      {
        executorId: 'mock-exec',
        provider: 'mock',
        maxConcurrency: 4,
        running: 0,
        queued: 0,
        configured: true,
      },
    ])
    const one = await g.api('/api/admin/executors/mock-exec/queue-status')
    expect(one.body).toMatchObject({ running: 0, queued: 0, maxConcurrency: 4 })
    expect((await g.api('/api/admin/executors/ghost/queue-status')).status).toBe(404)
  })

  it('exposes Prometheus metrics for calls', async () => {
    const res = await fetch(`${g.url}/metrics`)
    const text = await res.text()
    expect(res.headers.get('content-type')).toContain('text/plain')
    expect(text).toMatch(/gantry_calls_total\{ability="echo",status="succeeded"\} \d+/)
    expect(text).toMatch(/gantry_call_duration_seconds_count\{ability="echo"\} \d+/)
    expect(text).toContain('gantry_executor_running{executor="mock-exec"} 0')
  })
})

describe('an executor whose secrets are not set here', () => {
  it('loads as not configured: its abilities are listed as not ready and answer ABILITY_EXECUTOR_NOT_CONFIGURED', async () => {
    const g = await startGantry({
      files: {
        'remote.yaml': [
          'kind: Executor',
          'id: remote',
          'provider: mock',
          'config:',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
          '  apiKey: "${env:GANTRY_TEST_NEVER_SET}"',
          '---',
          'kind: Ability',
          'id: remote.echo',
          'executor: remote',
        ].join('\n'),
      },
    })
    try {
      const listed = (await g.api('/api/abilities/remote.echo', { token: null })).body
      expect(listed).toMatchObject({
        ready: false,
        notReady: ["environment variable 'GANTRY_TEST_NEVER_SET' is not set"],
      })
      const res = await g.api('/api/abilities/remote.echo/invoke', { body: {} })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('ABILITY_EXECUTOR_NOT_CONFIGURED')
      expect(res.body.error.message).toContain('GANTRY_TEST_NEVER_SET')
      expect((await g.api('/api/admin/definitions/errors')).body.items).toEqual([])
    } finally {
      await g.stop()
    }
  })
})
