/**
 * The shared queue, leases and leadership of the PostgreSQL store, as several
 * nodes see them: each "node" here is a store of its own on one schema.
 */
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ClusterSignal } from '../../core/model/cluster.js'
import type { AbilityTask } from '../../core/model/task.js'
import { createPostgresStore, type PostgresStore } from '../../core/store/postgres/index.js'
import { createSweeper } from '../../core/sweeps/sweeper.js'
import type { TaskRunner } from '../../core/tasks/task-runner.js'
import { eventually, WAIT_MS } from '../helpers.js'
import { dropSchema, newSchema, PG_URL, SKIP_TITLE } from '../pg-schema.js'

let created = 0
function makeTask(over: Partial<AbilityTask> = {}): AbilityTask {
  return {
    id: `t${++created}`,
    seq: 0,
    abilityId: 'a',
    executorId: 'e',
    userId: 'u',
    status: 'queued',
    priority: 0,
    progress: 0,
    attempts: 0,
    payload: { inputs: {} },
    createdAt: Date.now(),
    ...over,
  }
}

describe.skipIf(!PG_URL)(`the shared queue on PostgreSQL${PG_URL ? '' : `: ${SKIP_TITLE}`}`, () => {
  let schema: string
  let nodes: PostgresStore[]

  async function node(leaseMs = 30_000): Promise<PostgresStore> {
    const store = createPostgresStore(PG_URL!, { schema, poolSize: 6, leaseMs })
    await store.open()
    nodes.push(store)
    return store
  }

  beforeEach(() => {
    schema = newSchema()
    nodes = []
  })
  afterEach(async () => {
    for (const n of nodes) await n.close()
    await dropSchema(schema)
  })

  it('claims by priority, then first in first out, and skips tasks whose retry is not due', async () => {
    const a = await node()
    const low = makeTask()
    const high = makeTask({ priority: 5 })
    const later = makeTask({ runAfter: Date.now() + 60_000 })
    const next = makeTask()
    for (const t of [low, high, later, next]) await a.tasks.insert(t)
    const claimed = await a.cluster.queue.claim(
      [{ executorId: 'e', maxConcurrency: 10, count: 10 }],
      Date.now(),
    )
    expect(claimed.map((t) => t.id)).toEqual([high.id, low.id, next.id])
    expect(claimed[0]).toMatchObject({ status: 'running', attempts: 1, progress: 0 })
    expect(claimed[0].startedAt).toBeGreaterThan(0)
    expect(await a.tasks.get(high.id)).toMatchObject({ status: 'running', attempts: 1 })
    // the stored record and the claimed one agree, so the attempt's fenced saves succeed
    expect(
      await a.tasks.save({ ...claimed[0], status: 'succeeded' }, { status: ['running'], attempts: 1 }),
    ).toBe(true)
  })

  it('never lets nodes claiming at once exceed an executor limit, counting sync-call leases too', async () => {
    const [a, b, c] = [await node(), await node(), await node()]
    for (let n = 0; n < 40; n++) await a.tasks.insert(makeTask())
    const slot = await a.cluster.slots.take('e', 5)
    expect(slot).toBeDefined()
    const want = [{ executorId: 'e', maxConcurrency: 5, count: 5 }]
    const rounds = await Promise.all([a, b, c, a, b, c].map((s) => s.cluster.queue.claim(want, Date.now())))
    expect(rounds.flat()).toHaveLength(4)
    expect((await a.cluster.slots.counts()).get('e')).toBe(5)
    expect(await b.cluster.slots.take('e', 5)).toBeUndefined()
    // an attempt that ends frees its slot with the same write
    const done = rounds.flat()[0]
    await b.tasks.save({ ...done, status: 'succeeded' }, { status: ['running'], attempts: done.attempts })
    await a.cluster.slots.give(slot!)
    const more = await c.cluster.queue.claim(want, Date.now())
    expect(more).toHaveLength(2)
  })

  it('keeps renewed leases and gives back the tasks of a node that stopped renewing', async () => {
    const a = await node(400)
    const b = await node(400)
    await a.tasks.insert(makeTask())
    await a.tasks.insert(makeTask({ externalId: 'job-7' }))
    const want = [{ executorId: 'e', maxConcurrency: 10, count: 1 }]
    const [onA] = await a.cluster.queue.claim(want, Date.now())
    const [onB] = await b.cluster.queue.claim(want, Date.now())
    expect(onB.externalId).toBe('job-7')
    await new Promise((r) => setTimeout(r, 250))
    expect(await a.cluster.renew()).toEqual(new Set([onA.id]))
    await new Promise((r) => setTimeout(r, 250))
    // a renewed at 250 ms, b never: only b's task is past its lease
    const expired = await a.cluster.queue.takeExpired()
    expect(expired.map((t) => t.id)).toEqual([onB.id])
    expect(await b.cluster.renew()).toEqual(new Set())
  })

  it('elects one leader at a time and hands over when it stops; signals reach every node', async () => {
    const a = await node(300)
    const b = await node(300)
    const leading = new Map<string, boolean>()
    const heard: ClusterSignal[][] = [[], []]
    await a.cluster.start({
      onSignal: (s) => heard[0].push(s),
      onLeadership: (on) => leading.set('a', on),
    })
    await b.cluster.start({
      onSignal: (s) => heard[1].push(s),
      onLeadership: (on) => leading.set('b', on),
    })
    await eventually(() => leading.get('a') === true)
    expect(leading.get('b')).not.toBe(true)
    await a.cluster.signal({ kind: 'cancel', taskId: 'x' })
    await eventually(() => heard.every((h) => h.some((s) => s.kind === 'cancel' && s.taskId === 'x')))
    await a.cluster.stop()
    await eventually(() => leading.get('b') === true)
  })

  it('lets one holder at a time run under a cluster-wide lock', async () => {
    const a = await node()
    const b = await node()
    let inside = 0
    let most = 0
    const work = async () => {
      inside++
      most = Math.max(most, inside)
      await new Promise((r) => setTimeout(r, 20))
      inside--
    }
    await Promise.all([a, b, a, b, a, b].map((s) => s.cluster.withLock('job:1', work)))
    expect(most).toBe(1)
  })

  it('vacuums a table whose dead rows piled up (sync-call leases taken and given back), and leaves the rest', async () => {
    const a = await node()
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    // the server's own autovacuum (when it has one) must not get there first
    await admin.query(`ALTER TABLE "${schema}".leases SET (autovacuum_enabled = false)`)
    for (let round = 0; round < 30; round++) {
      const slots = await Promise.all(Array.from({ length: 50 }, () => a.cluster.slots.take('e', 100)))
      await Promise.all(slots.map((s) => a.cluster.slots.give(s!)))
    }
    const leases = async () =>
      (
        await admin.query(
          'SELECT n_dead_tup, vacuum_count FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2',
          [schema, 'leases'],
        )
      ).rows[0]
    try {
      // the server counts dead rows a moment after the writes (statistics are flushed in the background)
      await eventually(async () => Number((await leases()).n_dead_tup) >= 1500, WAIT_MS, 250)
      expect(await a.cluster.vacuum()).toEqual(['leases'])
      expect(await leases()).toEqual({ n_dead_tup: '0', vacuum_count: '1' })
      expect(await a.cluster.vacuum()).toEqual([])
    } finally {
      await admin.end()
    }
  }, 120_000)

  it('keeps the first proposal of a generated secret, even when nodes propose at once', async () => {
    const nodes = [await node(), await node(), await node()]
    const got = await Promise.all(
      Array.from({ length: 12 }, (_, i) => nodes[i % 3].cluster.sharedSecret('jwt', `proposal-${i}`)),
    )
    expect(new Set(got).size).toBe(1)
    expect(got[0]).toMatch(/^proposal-\d+$/)
    expect(await nodes[1].cluster.sharedSecret('jwt', 'late')).toBe(got[0])
    expect(await nodes[2].cluster.sharedSecret('webhook', 'w')).toBe('w')
  })

  it("releases a sync call's hold once the node that took it stops renewing, not before", async () => {
    const a = await node(300)
    const b = await node(300)
    await a.ledger.grant('u', 10, 'test', 'ops')
    await a.cluster.renew()
    await b.cluster.renew()
    await a.ledger.hold('u', `invoke:${a.cluster.nodeId}:call-1`, 4)
    const sweeper = createSweeper({
      store: b,
      // only reconcileHolds runs here, which reads no task runner
      tasks: {} as TaskRunner,
      definitions: () => ({
        version: 1,
        executors: new Map(),
        abilities: new Map(),
        workflows: new Map(),
        errors: [],
        loadedAt: '',
      }),
      log: () => {},
      options: {
        queueTimeoutMs: 60_000,
        retentionMs: 60_000,
        timeoutSchedule: '0 0 1 1 *',
        retentionSchedule: '0 0 1 1 *',
      },
    })
    expect(await sweeper.reconcileHolds()).toEqual({ holdsReleased: 0 })
    expect((await b.ledger.wallet('u')).frozen).toBe(4)
    await new Promise((r) => setTimeout(r, 400))
    await b.cluster.renew()
    expect(await sweeper.reconcileHolds()).toEqual({ holdsReleased: 1 })
    expect(await b.ledger.wallet('u')).toMatchObject({ balance: 10, frozen: 0 })
  })

  it('writes inserts of one turn together, and a bad one fails only its own caller', async () => {
    const a = await node()
    const existing = makeTask()
    await a.tasks.insert(existing)
    const [first, again, last] = [makeTask(), { ...existing }, makeTask()]
    const results = await Promise.allSettled([first, again, last].map((t) => a.tasks.insert(t)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(await a.tasks.get(first.id)).toMatchObject({ id: first.id, seq: first.seq })
    expect(await a.tasks.get(last.id)).toMatchObject({ id: last.id, seq: last.seq })
    expect(new Set([existing.seq, first.seq, last.seq]).size).toBe(3)
    // saves of one turn: each keeps its own expectation
    const saves = await Promise.all([
      a.tasks.save({ ...first, status: 'running', attempts: 1 }, { status: ['queued'], attempts: 0 }),
      a.tasks.save({ ...last, status: 'running', attempts: 1 }, { status: ['queued'], attempts: 5 }),
    ])
    expect(saves).toEqual([true, false])
    expect(await a.tasks.get(last.id)).toMatchObject({ status: 'queued', attempts: 0 })
  })

  it('stops leading when its connection is cut, and one node leads again', async () => {
    const a = await node(300)
    const b = await node(300)
    const leading = { a: false, b: false }
    const lost: string[] = []
    const handlers = (name: 'a' | 'b') => ({
      onSignal: () => {},
      onLeadership: (on: boolean) => {
        if (!on && leading[name]) lost.push(name)
        leading[name] = on
      },
    })
    await a.cluster.start(handlers('a'))
    await b.cluster.start(handlers('b'))
    await eventually(() => leading.a)
    // the database ends the leader's session, as a failover or a cut network would
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND objid = 3 AND classid = (hashtext($1)::bigint & 4294967295)::oid`,
        [schema],
      )
      expect(rowCount).toBe(1)
    } finally {
      await admin.end()
    }
    await eventually(() => lost.includes('a'))
    await eventually(() => leading.a !== leading.b)
  })
})
