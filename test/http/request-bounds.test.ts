/**
 * Every JSON body is bounded where it is parsed: nesting, width, and strings
 * neither store can keep. A refused body is 400 VALIDATION_FAILED naming the
 * field, and leaves nothing behind: no task, no job, no hold, no ledger entry.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachStore } from '../each-store.js'
import { startGantry, type TestGantry } from '../helpers.js'

const DEFS = `
kind: Executor
id: m
provider: mock
maxConcurrency: 4
---
kind: Ability
id: echo
name: Echo
executor: m
---
kind: Ability
id: paid
name: Paid echo
executor: m
pricing: { base: 4 }
---
kind: Workflow
id: flow
name: One step
input: { type: object, properties: { text: { type: string }, extra: { type: object } } }
steps:
  - { id: one, ability: echo, with: { text: "\${{ params.text }}" } }
`

/** `{"a":{"a":…1…}}`, `levels` objects deep, as JSON text. */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`
const deepBody = (field: string, levels: number, rest = '"abilityId":"echo",') =>
  `{${rest}"${field}":${nested(levels)}}`

describeEachStore('request bounds', (env) => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env })
  })
  afterAll(async () => {
    await g?.stop()
  })

  const refused = (res: { status: number; body: any }, path: string) => {
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
    expect(res.body.error.details[0].path).toBe(path)
  }
  const tasksOf = async (token: string) => (await g.api('/api/ability-tasks', { token })).body.items
  const jobsOf = async (token: string) => (await g.api('/api/workflow-jobs', { token })).body.items
  const wallet = async (token: string) => {
    const { balance, frozen, available } = (await g.api('/api/wallet', { token })).body
    const entries = (await g.api('/api/wallet/ledger', { token })).body.items.length
    return { balance, frozen, available, entries }
  }

  it('a task whose metadata nests thousands of levels is 400, with or without an Idempotency-Key, and nothing is stored', async () => {
    const token = g.token('deep-tasks')
    await g.api('/api/admin/wallets/deep-tasks/grant', { body: { points: 10, reason: 'test' } })
    const before = await wallet(token)
    const body = deepBody('metadata', 5000, '"abilityId":"paid",')
    refused(await g.api('/api/ability-tasks', { body, token }), `/metadata${'/a'.repeat(31)}`)
    const keyed = await g.api('/api/ability-tasks', { body, token, headers: { 'idempotency-key': 'deep-1' } })
    refused(keyed, `/metadata${'/a'.repeat(31)}`)
    expect(await tasksOf(token)).toEqual([])
    expect(await wallet(token)).toEqual(before)
  })

  it('a priced sync invoke with deep metadata is 400 and the wallet is unchanged', async () => {
    const token = g.token('deep-invoke')
    await g.api('/api/admin/wallets/deep-invoke/grant', { body: { points: 10, reason: 'test' } })
    const before = await wallet(token)
    expect(before).toMatchObject({ balance: 10, frozen: 0, entries: 1 })
    const res = await g.api('/api/abilities/paid/invoke', { body: deepBody('metadata', 5000, ''), token })
    refused(res, `/metadata${'/a'.repeat(31)}`)
    expect(await wallet(token)).toEqual(before)
  })

  it('nesting up to the limit is accepted; one level more is not', async () => {
    const token = g.token('edge')
    // the body is level 1, metadata level 2: 31 more objects fit under 32
    const fits = await g.api('/api/ability-tasks', { body: deepBody('metadata', 31), token })
    expect(fits.status).toBe(202)
    refused(
      await g.api('/api/ability-tasks', { body: deepBody('metadata', 32), token }),
      `/metadata${'/a'.repeat(31)}`,
    )
    // arrays count as levels too
    const arrays = `{"abilityId":"echo","inputs":{"x":${'['.repeat(40)}${']'.repeat(40)}}}`
    refused(await g.api('/api/ability-tasks', { body: arrays, token }), `/inputs/x${'/0'.repeat(30)}`)
  })

  it('a workflow start with deep params is 400 and no job is stored', async () => {
    const token = g.token('deep-flow')
    const body = `{"params":{"text":"hi","extra":${nested(4000)}}}`
    refused(await g.api('/api/workflows/flow/jobs', { body, token }), `/params/extra${'/a'.repeat(30)}`)
    const keyed = await g.api('/api/workflows/flow/jobs', {
      body,
      token,
      headers: { 'idempotency-key': 'f-1' },
    })
    expect(keyed.status).toBe(400)
    expect(await jobsOf(token)).toEqual([])
  })

  it('every other body is bounded too: credits estimate, admin grant', async () => {
    refused(
      await g.api('/api/credits/estimate', { body: deepBody('inputs', 2000) }),
      `/inputs${'/a'.repeat(31)}`,
    )
    const before = await wallet(g.token('granted'))
    const grant = `{"points":5,"reason":"x","note":${nested(2000)}}`
    refused(await g.api('/api/admin/wallets/granted/grant', { body: grant }), `/note${'/a'.repeat(31)}`)
    expect(await wallet(g.token('granted'))).toEqual(before)
  })

  it('too wide: an object of more than 1000 keys or an array of more than 10000 items is 400', async () => {
    const token = g.token('wide')
    const keys = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]))
    refused(
      await g.api('/api/ability-tasks', { body: { abilityId: 'echo', inputs: keys }, token }),
      '/inputs',
    )
    const items = Array.from({ length: 10_001 }, () => 0)
    refused(
      await g.api('/api/ability-tasks', { body: { abilityId: 'echo', inputs: { items } }, token }),
      '/inputs/items',
    )
    expect(await tasksOf(token)).toEqual([])
  })

  it('NUL and lone surrogates, in values or keys, are 400 on tasks, invoke and workflow start; nothing is stored', async () => {
    const token = g.token('bad-strings')
    const cases: [string, string][] = [
      ['{"abilityId":"echo","inputs":{"text":"a\\u0000b"}}', '/inputs/text'],
      ['{"abilityId":"echo","metadata":{"trace":"\\ud800"}}', '/metadata/trace'],
      ['{"abilityId":"echo","metadata":{"x":["ok","\\udc00z"]}}', '/metadata/x/1'],
      ['{"abilityId":"echo","inputs":{"a\\u0000":1}}', '/inputs/a\u0000'],
    ]
    for (const [body, path] of cases) {
      const res = await g.api('/api/ability-tasks', { body, token })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('VALIDATION_FAILED')
      expect(res.body.error.details[0].path).toBe(path)
    }
    // a well-formed pair is fine
    const pair = await g.api('/api/ability-tasks', {
      body: { abilityId: 'echo', inputs: { text: 'fox 🦊' } },
      token,
    })
    expect(pair.status).toBe(202)
    const invoke = await g.api('/api/abilities/echo/invoke', { body: '{"inputs":{"text":"\\ud83d"}}', token })
    refused(invoke, '/inputs/text')
    const flow = await g.api('/api/workflows/flow/jobs', { body: '{"params":{"text":"a\\u0000"}}', token })
    refused(flow, '/params/text')
    expect((await tasksOf(token)).map((t: any) => t.id)).toEqual([pair.body.id])
    expect(await jobsOf(token)).toEqual([])
  })

  it('callbackHeaders are bounded: names that are header names, values without line breaks, at most 32, each short', async () => {
    const token = g.token('headers')
    const submit = (callbackHeaders: unknown) =>
      g.api('/api/ability-tasks', {
        body: { abilityId: 'echo', callbackUrl: 'https://example.com/hook', callbackHeaders },
        token,
      })
    refused(await submit({ 'bad name': 'x' }), '/callbackHeaders')
    refused(await submit({ 'x-ok': 'line\r\nbreak: injected' }), '/callbackHeaders/x-ok')
    refused(await submit({ 'x-long': 'v'.repeat(4097) }), '/callbackHeaders/x-long')
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x-h${i}`, 'v']))
    refused(await submit(many), '/callbackHeaders')
    const flow = await g.api('/api/workflows/flow/jobs', {
      body: { params: {}, callbackUrl: 'https://example.com/hook', callbackHeaders: { 'x-a': 1 } },
      token,
    })
    refused(flow, '/callbackHeaders/x-a')
    expect(await tasksOf(token)).toEqual([])
    expect(await jobsOf(token)).toEqual([])
  })

  it('metadata is at most 64 KiB', async () => {
    const token = g.token('big-meta')
    const res = await g.api('/api/ability-tasks', {
      body: { abilityId: 'echo', metadata: { blob: 'x'.repeat(65 * 1024) } },
      token,
    })
    refused(res, '/metadata')
    expect(await tasksOf(token)).toEqual([])
  })

  it('a NUL in a URL is 400 and one in a token is 401 on every route, never a 500', async () => {
    const token = g.token('urls')
    const gets = [
      '/api/ability-tasks/a%00b',
      '/api/ability-tasks?abilityId=a%00',
      '/api/workflow-jobs/a%00',
      '/api/workflow-jobs?projectId=%00',
      '/api/admin/wallets/a%00b',
      '/api/admin/logs/%00',
      '/media/a%00',
    ]
    for (const path of gets) {
      const res = await g.api(path, path.includes('admin') || path.includes('media') ? {} : { token })
      expect([path, res.status, res.body.error?.code]).toEqual([path, 400, 'VALIDATION_FAILED'])
    }
    const grant = await g.api('/api/admin/wallets/a%00b/grant', { body: { points: 1, reason: 'x' } })
    expect(grant.status).toBe(400)
    // a token whose user id no store can hold is no valid token
    const nul = g.token('a\u0000b')
    expect((await g.api('/api/wallet', { token: nul })).status).toBe(401)
    expect((await g.api('/api/ability-tasks', { token: nul, body: { abilityId: 'echo' } })).status).toBe(401)
  })

  it('an Idempotency-Key carrying NUL never reaches a store: the HTTP parser refuses it with 400', async () => {
    const token = g.token('nul-key')
    const { hostname, port } = new URL(g.url)
    const body = JSON.stringify({ abilityId: 'echo' })
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST /api/ability-tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: application/json\r\nIdempotency-Key: a\u0000b\r\n` +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        )
      })
      let text = ''
      socket.on('data', (d) => (text += d))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(await tasksOf(token)).toEqual([])
  })
})
