/**
 * Client events across nodes: notifiers ("nodes") sharing one PostgreSQL
 * schema, each told of appends through LISTEN/NOTIFY as a cluster node is.
 * Runs when GANTRY_TEST_PG names a database, e.g.
 * `GANTRY_TEST_PG=postgres://postgres@127.0.0.1:5432/test npx vitest run test/notify/cluster-notifier.test.ts`.
 */
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { NotifyEvent } from '../../core/model/notify-event.js'
import { type ClusterNotifier, createClusterNotifier } from '../../core/notify/cluster-notifier.js'
import { channelOf, decodeSignal } from '../../core/store/postgres/cluster/channel.js'
import { createSharedEventLog } from '../../core/store/postgres/cluster/shared-event-log.js'
import { createPostgresStore } from '../../core/store/postgres/index.js'
import { createPool } from '../../core/store/postgres/pool.js'
import { WAIT_MS } from '../helpers.js'
import { dropSchema, newSchema } from '../pg-schema.js'

const url = process.env.GANTRY_TEST_PG

async function until(done: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function received(notifier: ClusterNotifier): NotifyEvent[] {
  const events: NotifyEvent[] = []
  notifier.subscribe((e) => events.push(e))
  return events
}

if (url) {
  describe('the cluster notifier on PostgreSQL', () => {
    let schema: string
    let pool: pg.Pool
    let listener: pg.Client
    let nodes: ClusterNotifier[]

    /** A node: a notifier on the shared log, told of appends (a long poll, so signals do the work). */
    async function node(opts: { maxEvents?: number } = {}): Promise<ClusterNotifier> {
      const notifier = createClusterNotifier({
        events: createSharedEventLog(pool, schema),
        pollMs: 60_000,
        ...opts,
      })
      await notifier.open()
      nodes.push(notifier)
      return notifier
    }

    beforeEach(async () => {
      schema = newSchema('test')
      const store = createPostgresStore(url, { schema, poolSize: 1 })
      await store.open()
      await store.close()
      pool = createPool(url, { schema, poolSize: 6 })
      nodes = []
      listener = new pg.Client({ connectionString: url })
      await listener.connect()
      listener.on('notification', (msg) => {
        const signal = decodeSignal(msg.payload)
        if (signal?.kind === 'events') for (const n of nodes) n.onAppended(signal.lastId)
      })
      await listener.query(`LISTEN ${channelOf(schema).quoted}`)
    })

    afterEach(async () => {
      for (const n of nodes) await n.close()
      await listener.end()
      await pool.end()
      await dropSchema(schema)
    })

    it('delivers an event published on one node to both, with the same ids, in publish order', async () => {
      const [a, b] = [await node(), await node()]
      const [onA, onB] = [received(a), received(b)]
      for (let n = 1; n <= 3; n++) a.publish('wallet.points', 'alice', { n })
      await until(() => onA.length === 3 && onB.length === 3)
      expect(onA.map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
      expect(onB).toEqual(onA)
      expect(onA.map((e) => e.id)).toEqual([1, 2, 3])
      expect(b.lastId()).toBe(3)
    })

    it('numbers events published on two nodes at once without gaps, and both see one order', async () => {
      const [a, b] = [await node(), await node()]
      const [onA, onB] = [received(a), received(b)]
      for (let i = 0; i < 500; i++) {
        a.publish('wallet.points', 'alice', { node: 'a', i })
        b.publish('wallet.points', 'bob', { node: 'b', i })
        // a pause now and then, so appends from both nodes interleave (about 20 batches, alternating)
        if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
      }
      await until(() => onA.length === 1000 && onB.length === 1000)
      expect(onA.map((e) => e.id)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      expect(onB).toEqual(onA)
      for (const side of ['a', 'b']) {
        const order = onA.map((e) => e.payload as { node: string; i: number }).filter((p) => p.node === side)
        expect(order.map((p) => p.i)).toEqual(Array.from({ length: 500 }, (_, i) => i))
      }
    })

    it('replays on one node what was published on another after a Last-Event-ID', async () => {
      const [a, b] = [await node(), await node()]
      const onB = received(b)
      for (let n = 1; n <= 5; n++) a.publish('wallet.points', 'alice', { n })
      await until(() => onB.length === 5)
      const { events, reset } = b.since(onB[1].id)
      expect(reset).toBe(false)
      expect(events.map((e) => e.payload)).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }])
      // an id this node has not read yet is not a lost log
      expect(b.since(b.lastId() + 10)).toEqual({ events: [], reset: false })
    })

    it('replays the tail on a node opened later (Last-Event-ID across a restart)', async () => {
      const a = await node()
      const onA = received(a)
      for (let n = 1; n <= 5; n++) a.publish('wallet.points', 'alice', { n })
      await until(() => onA.length === 5)
      await a.close()

      const later = await node()
      await later.catchUp()
      expect(later.lastId()).toBe(5)
      expect(later.since(3)).toEqual({ events: onA.slice(3), reset: false })
      const small = await node({ maxEvents: 2 })
      await small.catchUp()
      expect(small.since(3).reset).toBe(false)
      expect(small.since(2).reset).toBe(true)
    })

    it('reads the log only while someone listens; a late stream catches up on the newest window', async () => {
      const log = createSharedEventLog(pool, schema)
      let reads = 0
      const counted = {
        ...log,
        after(id: number, limit: number) {
          reads++
          return log.after(id, limit)
        },
      }
      const quiet = createClusterNotifier({ events: counted, pollMs: 20, maxEvents: 3 })
      await quiet.open()
      nodes.push(quiet)
      const a = await node()
      const onA = received(a)
      for (let n = 1; n <= 8; n++) a.publish('wallet.points', 'alice', { n })
      await until(() => onA.length === 8)
      // told of the appends, and polling: still nothing read
      for (const n of nodes) n.onAppended(8)
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(reads).toBe(0)

      await quiet.catchUp()
      expect(quiet.lastId()).toBe(8)
      expect(quiet.since(5)).toEqual({ events: onA.slice(5), reset: false })
      // older than the window: the events before it were skipped, not read
      expect(quiet.since(4).reset).toBe(true)
      expect(reads).toBeLessThanOrEqual(2)

      // subscribed, it reads as events come, and stops again once nobody listens
      const onQuiet: NotifyEvent[] = []
      const unsubscribe = quiet.subscribe((e) => onQuiet.push(e))
      a.publish('wallet.points', 'alice', { n: 9 })
      await until(() => onQuiet.length === 1 && onA.length === 9)
      expect(onQuiet).toEqual([onA[8]])
      unsubscribe()
      // let a read already under way finish before counting
      await quiet.catchUp()
      const readsBefore = reads
      a.publish('wallet.points', 'alice', { n: 10 })
      await until(() => onA.length === 10)
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(reads).toBe(readsBefore)
    })

    it('keeps events through a failed append and stores them on the retry', async () => {
      const log = createSharedEventLog(pool, schema)
      let failures = 1
      const flaky = {
        ...log,
        append: (events: Parameters<typeof log.append>[0]) =>
          failures-- > 0 ? Promise.reject(new Error('down')) : log.append(events),
      }
      const errors: string[] = []
      const a = createClusterNotifier({
        events: flaky,
        pollMs: 50,
        log: (level, msg) => level === 'error' && errors.push(msg),
      })
      await a.open()
      nodes.push(a)
      const onA = received(a)
      a.publish('wallet.points', 'alice', { n: 1 })
      a.publish('wallet.points', 'alice', { n: 2 })
      await until(() => onA.length === 2)
      expect(onA.map((e) => [e.id, e.payload])).toEqual([
        [1, { n: 1 }],
        [2, { n: 2 }],
      ])
      expect(errors).toEqual(['notify: could not store events, will retry'])
    })

    it('stores an event published just before close', async () => {
      const a = await node()
      a.publish('wallet.points', 'alice', { n: 1 })
      await a.close()
      const later = await node()
      await later.catchUp()
      expect(later.since(0).events.map((e) => e.payload)).toEqual([{ n: 1 }])
    })
  })
} else {
  describe.skip('the cluster notifier: skipped, GANTRY_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)', () => {
    it('shares client events between nodes', () => {})
  })
}
