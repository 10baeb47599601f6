import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallbackDelivery } from '../../core/model/callback.js'
import type { WorkflowJob } from '../../core/model/job.js'
import type { AbilityTask } from '../../core/model/task.js'
import { createPostgresStore, type PostgresStore } from '../../core/store/postgres/index.js'
import { dropSchema, newSchema, PG_URL as url } from '../pg-schema.js'

const task = (id: string, userId = 'alice', over: Partial<AbilityTask> = {}): AbilityTask => ({
  id,
  seq: 0,
  abilityId: 'echo',
  executorId: 'm',
  userId,
  status: 'queued',
  priority: 0,
  progress: 0,
  attempts: 0,
  payload: { abilityId: 'echo', inputs: { n: 1 } } as AbilityTask['payload'],
  createdAt: Date.now(),
  ...over,
})

const job = (id: string, over: Partial<WorkflowJob> = {}): WorkflowJob => ({
  id,
  seq: 0,
  workflowId: 'wf',
  userId: 'alice',
  params: { a: [1, 2] },
  status: 'pending',
  progress: 0,
  plan: { steps: [] },
  steps: {},
  consumed: false,
  createdAt: Date.now(),
  ...over,
})

const delivery = (id: string, over: Partial<CallbackDelivery> = {}): CallbackDelivery => ({
  id,
  url: 'http://example.test/hook',
  headers: {},
  body: { list: [1, 'two'] },
  userId: 'alice',
  status: 'pending',
  attempts: 0,
  nextAttemptAt: 1000,
  createdAt: 1000,
  ...over,
})

describe.skipIf(!url)('the PostgreSQL store (GANTRY_TEST_PG)', () => {
  const schema = newSchema('gantry_smoke')
  let store: PostgresStore

  beforeAll(async () => {
    store = createPostgresStore(url!, { schema, poolSize: 8 })
    // several nodes starting at once apply each migration once
    const others = [1, 2].map(() => createPostgresStore(url!, { schema }))
    await Promise.all([store.open(), ...others.map((s) => s.migrate())])
    await Promise.all(others.map((s) => s.close()))
  })
  afterAll(async () => {
    await store?.close()
    await dropSchema(schema)
  })

  it('stores a priced task with its hold and idempotency record, then settles it on save', async () => {
    await store.ledger.grant('alice', 10, 'test', 'admin')
    const t = task('t1')
    await store.tasks.insert(t, {
      idempotency: { scope: 'alice:k', fingerprint: 'f', status: 202, taskId: 't1', createdAt: 5 },
      holdPoints: 4,
    })
    expect(t.seq).toBeGreaterThan(0)
    expect(await store.tasks.get('t1')).toEqual(t)
    expect(await store.idempotency.get('alice:k')).toMatchObject({ taskId: 't1' })
    expect(await store.ledger.wallet('alice')).toEqual({
      userId: 'alice',
      balance: 10,
      frozen: 4,
      available: 6,
    })
    expect(await store.ledger.openHolds()).toEqual([
      { holdKey: 'task:t1', userId: 'alice', points: 4, taskId: 't1' },
    ])

    const running = { ...t, status: 'running' as const, attempts: 1 }
    expect(await store.tasks.save(running, { status: ['queued'], attempts: 0 })).toBe(true)
    // a stale attempt changes nothing
    expect(await store.tasks.save({ ...running, progress: 50 }, { status: ['queued'], attempts: 0 })).toBe(
      false,
    )
    const ended = { ...running, status: 'succeeded' as const, finishedAt: 100 }
    const saved = await store.tasks.save(
      ended,
      { status: ['running'], attempts: 1 },
      { deliveries: [delivery('d1')], charge: 3 },
    )
    expect(saved).toBe(true)
    expect(await store.tasks.get('t1')).toEqual(ended)
    expect(await store.outbox.get('d1')).toEqual(delivery('d1'))
    expect(await store.ledger.wallet('alice')).toEqual({
      userId: 'alice',
      balance: 7,
      frozen: 0,
      available: 7,
    })
    expect(await store.ledger.openHolds()).toEqual([])
    const entries = await store.ledger.list({ userId: 'alice', limit: 10 })
    expect(entries.items.map((e) => [e.kind, e.points, e.balance, e.frozen])).toEqual([
      ['release', 1, 7, 0],
      ['commit', 3, 7, 1],
      ['hold', 4, 10, 4],
      ['grant', 10, 10, 0],
    ])
    expect(await store.ledger.verify()).toEqual([])
    // the hold is closed: settling again does nothing
    expect(await store.ledger.settle('task:t1', 2)).toEqual([])
    expect(await store.tasks.removeEndedBefore(101)).toBe(1)
    expect(await store.tasks.get('t1')).toBeUndefined()
  })

  it('refuses a hold the wallet cannot cover, writing nothing', async () => {
    const err = await store.tasks.insert(task('poor', 'bob'), { holdPoints: 1 }).catch((e) => e)
    expect(err).toMatchObject({ code: 'INSUFFICIENT_CREDITS', details: { required: 1, available: 0 } })
    expect(await store.tasks.get('poor')).toBeUndefined()
  })

  it('charges beyond the hold as an adjustment, and verify notices a tampered wallet', async () => {
    await store.ledger.grant('carol', 5, 'test', 'admin')
    expect(await store.ledger.hold('carol', 'invoke:1', 0)).toBeUndefined()
    const hold = await store.ledger.hold('carol', 'invoke:1', 2)
    expect(hold).toMatchObject({ kind: 'hold', points: 2, balance: 5, frozen: 2 })
    expect(await store.ledger.hold('carol', 'invoke:1', 2)).toBeUndefined()
    const settled = await store.ledger.settle('invoke:1', 3.5)
    expect(settled.map((e) => [e.kind, e.points])).toEqual([
      ['commit', 2],
      ['adjust', -1.5],
    ])
    expect(await store.ledger.wallet('carol')).toMatchObject({ balance: 1.5, frozen: 0 })
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`UPDATE ${schema}.wallets SET balance = 99 WHERE user_id = 'carol'`)
    await client.end()
    expect(await store.ledger.verify()).toEqual([
      {
        userId: 'carol',
        cached: { userId: 'carol', balance: 99, frozen: 0, available: 99 },
        recomputed: { userId: 'carol', balance: 1.5, frozen: 0, available: 1.5 },
      },
    ])
  })

  it('pages tasks newest first with filters and cursors', async () => {
    for (let i = 0; i < 7; i++)
      await store.tasks.insert(task(`p${i}`, 'dave', { abilityId: i % 2 ? 'odd' : 'even' }))
    const first = await store.tasks.list({ userId: 'dave', limit: 3 })
    expect(first.items.map((t) => t.id)).toEqual(['p6', 'p5', 'p4'])
    const second = await store.tasks.list({ userId: 'dave', limit: 3, cursor: first.nextCursor })
    expect(second.items.map((t) => t.id)).toEqual(['p3', 'p2', 'p1'])
    const last = await store.tasks.list({ userId: 'dave', limit: 3, cursor: second.nextCursor })
    expect(last).toEqual({ items: [expect.objectContaining({ id: 'p0' })] })
    const odd = await store.tasks.list({ userId: 'dave', abilityId: 'odd', limit: 10 })
    expect(odd.items.map((t) => t.id)).toEqual(['p5', 'p3', 'p1'])
    expect(odd.nextCursor).toBeUndefined()
    expect((await store.tasks.unfinished()).map((t) => t.id)).toEqual([
      'p0',
      'p1',
      'p2',
      'p3',
      'p4',
      'p5',
      'p6',
    ])
  })

  it('lets exactly as many concurrent priced inserts through as the wallet covers', async () => {
    await store.ledger.grant('erin', 5, 'test', 'admin')
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.tasks.insert(task(`c${i}`, 'erin'), { holdPoints: 1 })),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5)
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'INSUFFICIENT_CREDITS' })
    }
    expect(await store.ledger.wallet('erin')).toEqual({ userId: 'erin', balance: 5, frozen: 5, available: 0 })
    expect(await store.ledger.verify()).toHaveLength(1) // carol's tampered wallet only
  })

  it('stores jobs, lists the active ones, and finds one by singleton key', async () => {
    const a = job('j1', { singletonKey: 'only', projectId: 'p' })
    const b = job('j2')
    await store.jobs.insert(a, { scope: 'alice:j', fingerprint: 'f', status: 202, jobId: 'j1', createdAt: 1 })
    await store.jobs.insert(b)
    expect(b.seq).toBeGreaterThan(a.seq)
    expect(await store.jobs.get('j1')).toEqual(a)
    expect((await store.jobs.activeWithSingleton('alice', 'only'))?.id).toBe('j1')
    const done = { ...a, status: 'completed' as const, consumed: true, finishedAt: 50 }
    await store.jobs.save(done, [delivery('d2', { jobId: 'j1', status: 'delivered', deliveredAt: 60 })])
    expect(await store.jobs.get('j1')).toEqual(done)
    expect(await store.jobs.activeWithSingleton('alice', 'only')).toBeUndefined()
    expect(
      (await store.jobs.list({ userId: 'alice', active: true, limit: 10 })).items.map((j) => j.id),
    ).toEqual(['j2'])
    expect((await store.jobs.list({ projectId: 'p', limit: 10 })).items.map((j) => j.id)).toEqual(['j1'])
    expect((await store.jobs.unfinished()).map((j) => j.id)).toEqual(['j2'])
    expect(await store.jobs.removeFinishedBefore(51)).toBe(1)
    expect(await store.outbox.removeSettledBefore(61)).toBe(1)
    expect(await store.idempotency.removeBefore(2)).toBe(1)
  })

  it('keeps logs and due deliveries in order', async () => {
    for (let i = 1; i <= 3; i++) {
      await store.logs.append({
        logId: `log-${i}`,
        abilityId: 'echo',
        executorId: 'm',
        userId: 'alice',
        attempt: 1,
        status: 'succeeded',
        durationMs: i,
        cost: { points: 0 },
        request: { i },
        raw: null,
        createdAt: new Date(1_700_000_000_000 + i).toISOString(),
      })
    }
    const page = await store.logs.list({ abilityId: 'echo', limit: 2 })
    expect(page.items.map((l) => l.logId)).toEqual(['log-3', 'log-2'])
    expect((await store.logs.get('log-1'))?.raw).toBeNull()
    expect(await store.logs.removeBefore(1_700_000_000_002)).toBe(1)
    await store.outbox.update(delivery('late', { nextAttemptAt: 3000, createdAt: 1 }))
    await store.outbox.update(delivery('early', { nextAttemptAt: 2000, createdAt: 2 }))
    expect((await store.outbox.due(2500, 10)).map((d) => d.id)).toEqual(['d1', 'early'])
  })
})
