import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { type FakeOpenAI, startFakeOpenAI } from './openai-fake-server.js'

const KEY = 'sk-test-gantry-0123456789abcdef'
const WRONG_KEY = 'sk-wrong-gantry-9876543210'
const PROMPT_INPUT = 'input: { type: object, required: [prompt], properties: { prompt: { type: string } } }'

// each ability names its own model, so the fake server keeps one answer queue per ability
/** A loopback URL where nothing listens: the port is taken, then given back. */
async function deadBaseUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}/v1`
}

const definitions = (baseUrl: string, deadUrl: string) => `
kind: Executor
id: openai
provider: openai
maxConcurrency: 4
timeout: 10s
config:
  baseUrl: ${baseUrl}
  apiKey: \${env:GANTRY_TEST_OPENAI_KEY}
  organization: org-gantry
  model: gpt-4o-mini
  temperature: 0.2
---
kind: Executor
id: openai-wrong-key
provider: openai
config: { baseUrl: "${baseUrl}", apiKey: "\${env:GANTRY_TEST_WRONG_KEY}", model: m-wrong }
---
kind: Ability
id: chat
executor: openai
${PROMPT_INPUT}
---
kind: Ability
id: priced
executor: openai
${PROMPT_INPUT}
pricing: { base: 1, usage: { perOutputToken: 0.01, reserve: 10 } }
config: { model: m-priced }
---
kind: Ability
id: describe
executor: openai
input:
  type: object
  required: [animal, persona]
  properties:
    animal: { type: string }
    persona: { type: string }
    words: { type: integer, default: 12 }
    temperature: { type: number }
config:
  model: m-describe
  maxTokens: 64
  system: "You are {{inputs.persona}}."
  messages:
    - { role: user, content: "Describe a {{ inputs.animal }} in {{inputs.words}} words." }
---
kind: Ability
id: plan
executor: openai
${PROMPT_INPUT}
config: { model: m-json, json: true }
---
kind: Ability
id: person
executor: openai
${PROMPT_INPUT}
retry: { max: 2, backoff: 10ms }
config:
  model: m-schema
  jsonSchema:
    title: person
    type: object
    required: [name, age]
    properties: { name: { type: string }, age: { type: integer } }
    additionalProperties: false
---
kind: Ability
id: busy
executor: openai
${PROMPT_INPUT}
config: { model: m-rate }
---
kind: Ability
id: broke
executor: openai
${PROMPT_INPUT}
retry: { max: 2, backoff: 10ms }
config: { model: m-quota }
---
kind: Ability
id: flaky
executor: openai
${PROMPT_INPUT}
retry: { max: 1, backoff: 10ms }
config: { model: m-flaky }
---
kind: Ability
id: crowded
executor: openai
${PROMPT_INPUT}
retry: { max: 1, backoff: 10ms }
config: { model: m-crowded }
---
kind: Ability
id: slow
executor: openai
${PROMPT_INPUT}
config: { model: m-slow, timeout: 200ms }
---
kind: Executor
id: openai-offline
provider: openai
config: { baseUrl: "${deadUrl}", model: m-offline }
---
kind: Ability
id: offline
executor: openai-offline
${PROMPT_INPUT}
retry: { max: 1, backoff: 10ms }
---
kind: Ability
id: locked
executor: openai-wrong-key
${PROMPT_INPUT}
retry: { max: 2, backoff: 10ms }
`

describe('the openai provider, against a local OpenAI-compatible server', () => {
  let fake: FakeOpenAI
  let g: TestGantry
  beforeAll(async () => {
    fake = await startFakeOpenAI(KEY)
    // `${env:}` is resolved from the environment Gantry starts in
    process.env.GANTRY_TEST_OPENAI_KEY = KEY
    process.env.GANTRY_TEST_WRONG_KEY = WRONG_KEY
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/openai/index.ts') },
      files: { 'openai.yaml': definitions(fake.baseUrl, await deadBaseUrl()) },
    })
    const errors = await g.api('/api/admin/definitions/errors')
    expect(errors.body.items).toEqual([])
  })
  afterAll(async () => {
    await g?.stop()
    await fake?.close()
    delete process.env.GANTRY_TEST_OPENAI_KEY
    delete process.env.GANTRY_TEST_WRONG_KEY
  })

  const invoke = (abilityId: string, inputs: Record<string, unknown>) =>
    g.api(`/api/abilities/${abilityId}/invoke`, { body: { inputs } })

  async function runTask(abilityId: string, inputs: Record<string, unknown>) {
    const accepted = await g.api('/api/ability-tasks', { body: { abilityId, inputs } })
    expect(accepted.status).toBe(202)
    return waitForTask(g, accepted.body.id)
  }

  it('answers a sync invoke with the first choice as text and the token counts as usage', async () => {
    fake.script('gpt-4o-mini', { content: 'Hello from the fake model.', completionTokens: 7 })
    const res = await invoke('chat', { prompt: 'Say hello' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      texts: ['Hello from the fake model.'],
    })
    expect(res.body.raw).toMatchObject({ object: 'chat.completion', usage: { completion_tokens: 7 } })
    const [seen] = fake.requestsFor('gpt-4o-mini')
    expect(seen.path).toBe('/v1/chat/completions')
    expect(seen.organization).toBe('org-gantry')
    expect(seen.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 0.2,
    })
  })

  it('charges usage pricing on the tokens the model reports', async () => {
    await g.api('/api/admin/wallets/admin/grant', { body: { points: 100, reason: 'openai tests' } })
    fake.script('m-priced', { content: 'A long answer.', completionTokens: 250 })
    const res = await invoke('priced', { prompt: 'Write an essay' })
    expect(res.status).toBe(200)
    // base 1 + 250 output tokens x 0.01
    expect(res.body.cost).toEqual({ points: 3.5 })
  })

  it('renders the system prompt and messages from the inputs; inputs may override the temperature', async () => {
    const res = await invoke('describe', {
      animal: 'red fox',
      persona: 'a terse naturalist',
      temperature: 0.9,
    })
    expect(res.status).toBe(200)
    const [seen] = fake.requestsFor('m-describe')
    expect(seen.body).toEqual({
      model: 'm-describe',
      messages: [
        { role: 'system', content: 'You are a terse naturalist.' },
        { role: 'user', content: 'Describe a red fox in 12 words.' },
      ],
      temperature: 0.9,
      max_tokens: 64,
    })
  })

  it('sends the key from an env reference to the server, never to the logs or the raw response', async () => {
    const res = await invoke('chat', { prompt: 'Is my key safe?' })
    expect(res.status).toBe(200)
    expect(fake.requests.at(-1)?.authorization).toBe(`Bearer ${KEY}`)
    expect(JSON.stringify(res.body.raw)).not.toContain(KEY)
    const logs = await g.api('/api/admin/abilities/chat/logs?limit=50')
    expect(logs.body.items.length).toBeGreaterThan(0)
    expect(JSON.stringify(logs.body)).not.toContain(KEY)
  })

  it('fails a rejected key at once, with the API message but without the key', async () => {
    const task = await runTask('locked', { prompt: 'hi' })
    expect(task).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'PROVIDER_ERROR' })
    expect(task.errorMessage).toContain('401')
    expect(task.errorMessage).toContain('Incorrect API key provided')
    expect(task.errorMessage).not.toContain(WRONG_KEY)
    const logs = await g.api('/api/admin/abilities/locked/logs')
    expect(JSON.stringify(logs.body)).not.toContain(WRONG_KEY)
  })

  it('asks for a JSON object with json: true and cleans a fenced answer', async () => {
    fake.script('m-json', { content: '```json\n{ "steps": ["sketch", "ink",], "done": false, }\n```' })
    const res = await invoke('plan', { prompt: 'Plan a drawing, as JSON' })
    expect(res.status).toBe(200)
    expect(res.body.texts).toEqual(['{"steps":["sketch","ink"],"done":false}'])
    expect(fake.requestsFor('m-json')[0].body.response_format).toEqual({ type: 'json_object' })
  })

  it('fails an answer that does not match jsonSchema without retrying', async () => {
    fake.script('m-schema', { content: '{"name": "Ada"}' })
    const task = await runTask('person', { prompt: 'Who is Ada?' })
    expect(task).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'PROVIDER_ERROR' })
    expect(task.errorMessage).toContain('does not match jsonSchema')
    expect(task.errorMessage).toContain('age')
    const sent = fake.requestsFor('m-schema')
    expect(sent).toHaveLength(1)
    expect(sent[0].body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'person', strict: true, schema: { required: ['name', 'age'] } },
    })
  })

  it('accepts an answer that matches jsonSchema', async () => {
    fake.script('m-schema', { content: '{"name": "Ada", "age": 36}' })
    const task = await runTask('person', { prompt: 'Who is Ada?' })
    expect(task.status).toBe('succeeded')
    expect(task.resultPayload.texts).toEqual(['{"name":"Ada","age":36}'])
  })

  it('waits out a 429 rate limit for retry-after-ms and succeeds within the same attempt', async () => {
    fake.script(
      'm-rate',
      {
        status: 429,
        headers: { 'retry-after-ms': '200' },
        error: {
          message: 'Rate limit reached for m-rate on requests per min (RPM): Limit 3, Used 3, Requested 1.',
          type: 'requests',
          code: 'rate_limit_exceeded',
        },
      },
      { content: 'finally' },
    )
    const started = Date.now()
    const res = await invoke('busy', { prompt: 'hi' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ status: 'succeeded', attempts: 1, texts: ['finally'] })
    expect(fake.requestsFor('m-rate')).toHaveLength(2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
  })

  it('fails an exhausted quota at once, whatever the retry policy', async () => {
    fake.script('m-quota', {
      status: 429,
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
    })
    const task = await runTask('broke', { prompt: 'hi' })
    expect(task).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'PROVIDER_ERROR' })
    expect(task.errorMessage).toMatch(/quota/)
    expect(fake.requestsFor('m-quota')).toHaveLength(1)
  })

  it('retries a 500 as a new attempt', async () => {
    fake.script('m-flaky', {
      status: 500,
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        code: null,
      },
    })
    const task = await runTask('flaky', { prompt: 'hi' })
    expect(task).toMatchObject({ status: 'succeeded', attempts: 2 })
    expect(task.resultPayload.texts).toEqual(['hi'])
  })

  it('after three rate-limit waits gives the call back to Gantry as retryable', async () => {
    const limited = {
      status: 429,
      headers: { 'retry-after-ms': '10' },
      error: { message: 'Rate limit reached for m-crowded.', type: 'requests', code: 'rate_limit_exceeded' },
    }
    fake.script('m-crowded', limited, limited, limited, limited, { content: 'made it' })
    const task = await runTask('crowded', { prompt: 'hi' })
    expect(task).toMatchObject({ status: 'succeeded', attempts: 2 })
    expect(fake.requestsFor('m-crowded')).toHaveLength(5)
  })

  it('gives up on a request after its configured timeout', async () => {
    fake.script('m-slow', { content: 'too late', delayMs: 1000 })
    const task = await runTask('slow', { prompt: 'hi' })
    expect(task).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'PROVIDER_ERROR' })
    expect(task.errorMessage).toContain('no answer within 200 ms')
  })

  it('retries when the server cannot be reached', async () => {
    const task = await runTask('offline', { prompt: 'hi' })
    expect(task).toMatchObject({ status: 'failed', attempts: 2, errorCode: 'PROVIDER_ERROR' })
    expect(task.errorMessage).toContain('could not reach')
  })
})
