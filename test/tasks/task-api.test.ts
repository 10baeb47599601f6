import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'

const DEFS = `
kind: Executor
id: mock
provider: mock
maxConcurrency: 4
---
kind: Executor
id: single
provider: mock
maxConcurrency: 1
---
kind: Ability
id: echo
name: Echo
executor: mock
input: { type: object, properties: { text: { type: string }, delayMs: { type: integer } } }
---
kind: Ability
id: slow
name: Slow, one at a time
executor: single
---
kind: Ability
id: flaky
name: Flaky
executor: mock
retry: { max: 2, backoff: 20ms }
config: { failTimes: 2 }
---
kind: Ability
id: broken
name: Broken
executor: mock
retry: { max: 3, backoff: 10ms }
---
kind: Ability
id: async
name: Submit then poll
executor: mock
poll: { interval: 50ms }
config: { async: true, delayMs: 600 }
`

describe('ability tasks', () => {
  let g: TestGantry
  const submit = (body: object, token?: string, headers?: Record<string, string>) =>
    g.api('/api/ability-tasks', { body, ...(token ? { token } : {}), headers })
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
  })
  afterAll(() => g.stop())

  it('answers 202 with the queued task, then the task runs to succeeded with its result', async () => {
    const res = await submit({ abilityId: 'echo', inputs: { text: 'hi' }, metadata: { traceId: 't-1' } })
    expect(res.status).toBe(202)
    expect(res.body).toMatchObject({
      abilityId: 'echo',
      executorId: 'mock',
      status: 'queued',
      attempts: 0,
      progress: 0,
    })
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/)
    const done = await waitForTask(g, res.body.id)
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, progress: 100, errorCode: null })
    expect(done.resultPayload).toMatchObject({
      status: 'succeeded',
      taskId: res.body.id,
      texts: ['{"text":"hi"}'],
    })
    expect(done.logId).toBe(done.resultPayload.logId)
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt))
  })

  it('refuses an unknown ability and bad inputs before accepting anything', async () => {
    expect((await submit({ abilityId: 'nope' })).status).toBe(404)
    const bad = await submit({ abilityId: 'echo', inputs: { text: 5 } })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('VALIDATION_FAILED')
    expect((await submit({ inputs: {} })).status).toBe(400)
    expect((await submit({ abilityId: 'echo', priority: 'urgent' })).status).toBe(400)
  })

  it('retries a retryable failure with backoff, counting attempts', async () => {
    const res = await submit({ abilityId: 'flaky' })
    const done = await waitForTask(g, res.body.id)
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3 })
  })

  it('fails for good after the last retry, with the code and message', async () => {
    const res = await submit({ abilityId: 'broken', inputs: { fail: 'no GPU left' } })
    const done = await waitForTask(g, res.body.id)
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 4,
      errorCode: 'PROVIDER_ERROR',
      errorMessage: 'no GPU left',
    })
  })

  it('runs higher priority first, then first-in first-out', async () => {
    // the blocker holds the executor until all three are queued, then is canceled: no race with the clock
    const blocker = await submit({ abilityId: 'slow', inputs: { delayMs: 60_000 } })
    await waitForTask(g, blocker.body.id, ['running'])
    const std1 = await submit({ abilityId: 'slow', inputs: { n: 1, delayMs: 30 } })
    const std2 = await submit({ abilityId: 'slow', inputs: { n: 2, delayMs: 30 } })
    const fast = await submit({ abilityId: 'slow', inputs: { n: 3, delayMs: 30 }, priority: 'accelerated' })
    await g.api(`/api/ability-tasks/${blocker.body.id}/cancel`, { method: 'POST' })
    const ends = await Promise.all([std1, std2, fast].map((t) => waitForTask(g, t.body.id)))
    const order = ends
      .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
      .map((t) => t.inputs.n)
    expect(order).toEqual([3, 1, 2])
  })

  it('cancels a queued task at once and a running one by aborting its call; an ended one is 409', async () => {
    // long enough that only an aborted call can end it within the test
    const running = await submit({ abilityId: 'slow', inputs: { delayMs: 60_000 } })
    await waitForTask(g, running.body.id, ['running'])
    const queued = await submit({ abilityId: 'slow', inputs: { delayMs: 10 } })
    const c1 = await g.api(`/api/ability-tasks/${queued.body.id}/cancel`, { method: 'POST' })
    expect(c1.status).toBe(200)
    expect(c1.body).toMatchObject({ status: 'canceled', errorCode: 'CANCELED', attempts: 0 })
    const c2 = await g.api(`/api/ability-tasks/${running.body.id}/cancel`, { method: 'POST' })
    expect(c2.body).toMatchObject({ status: 'canceled', errorCode: 'CANCELED', attempts: 1 })
    const again = await g.api(`/api/ability-tasks/${running.body.id}/cancel`, { method: 'POST' })
    expect(again.status).toBe(409)
    const logs = await g.api('/api/admin/abilities/slow/logs?limit=1')
    expect(logs.body.items[0]).toMatchObject({ taskId: running.body.id, errorCode: 'CANCELED' })
  })

  it('follows a submit-then-poll job: external id, progress and stage while it runs', async () => {
    const res = await submit({ abilityId: 'async' })
    const running = await waitForTask(g, res.body.id, ['running'])
    const seen = await (async () => {
      for (let i = 0; i < 40; i++) {
        const t = (await g.api(`/api/ability-tasks/${res.body.id}`)).body
        if (t.progress > 0 && t.progress < 100) return t
        await new Promise((r) => setTimeout(r, 25))
      }
    })()
    expect(seen).toMatchObject({ status: 'running', stage: 'generating' })
    expect(seen.externalId).toMatch(/^mock-/)
    const done = await waitForTask(g, res.body.id)
    expect(done).toMatchObject({ status: 'succeeded', externalId: seen.externalId })
    void running
  })

  it('shows users only their own tasks; admins see all', async () => {
    const alice = g.token('alice')
    const bob = g.token('bob')
    const mine = await submit({ abilityId: 'echo', inputs: { text: 'alice' } }, alice)
    expect((await g.api(`/api/ability-tasks/${mine.body.id}`, { token: bob })).status).toBe(404)
    expect(
      (await g.api(`/api/ability-tasks/${mine.body.id}/cancel`, { method: 'POST', token: bob })).status,
    ).toBe(404)
    const bobs = await g.api('/api/ability-tasks?limit=200', { token: bob })
    expect(bobs.body.items.some((t: { id: string }) => t.id === mine.body.id)).toBe(false)
    const alices = await g.api('/api/ability-tasks', { token: alice })
    expect(alices.body.items.map((t: { id: string }) => t.id)).toEqual([mine.body.id])
    expect((await g.api(`/api/ability-tasks/${mine.body.id}`)).status).toBe(200)
  })

  it('lists newest first with filters, in pages that neither skip nor repeat while tasks keep arriving', async () => {
    const carol = g.token('carol')
    const created: string[] = []
    for (let i = 0; i < 7; i++)
      created.push((await submit({ abilityId: 'echo', inputs: { text: `c${i}` } }, carol)).body.id)
    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 10; page++) {
      const res = await g.api(`/api/ability-tasks?limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
        token: carol,
      })
      seen.push(...res.body.items.map((t: { id: string }) => t.id))
      // a new task arrives between pages
      await submit({ abilityId: 'echo', inputs: { text: 'late' } }, carol)
      cursor = res.body.nextCursor
      if (!cursor) break
    }
    expect(seen).toEqual([...created].reverse())
    const filtered = await g.api('/api/ability-tasks?abilityId=echo&status=succeeded&limit=200', {
      token: carol,
    })
    expect(filtered.body.items.every((t: { status: string }) => t.status === 'succeeded')).toBe(true)
    expect((await g.api('/api/ability-tasks?status=done')).status).toBe(400)
  })
})
