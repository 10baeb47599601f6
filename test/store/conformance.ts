/**
 * The Store conformance suite: what every Store implementation must do, stated
 * once and run against each of them (`lowdb-conformance.test.ts`,
 * `postgres-conformance.test.ts`). It asserts only what callers rely on, as
 * `core/model/store.ts` documents it; the embedded store is the reference.
 *
 * An implementation is handed in as a *location* (a data dir, a database
 * schema) rather than as a store, so the suite can close a store and open a
 * second one on the same data, as a restart does:
 *
 * @example
 * storeConformance('the embedded store', async () => {
 *   const dir = await makeTempDir()
 *   return {
 *     connect: () => createLowdbStore(dir),
 *     cleanup: () => rm(dir, { recursive: true, force: true }),
 *   }
 * })
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_BALANCE } from '../../core/ledger/limits.js'
import type { CallbackDelivery } from '../../core/model/callback.js'
import type { IdempotencyRecord } from '../../core/model/idempotency.js'
import type { InvocationLog } from '../../core/model/invocation-log.js'
import type { WorkflowJob } from '../../core/model/job.js'
import type { LedgerEntry } from '../../core/model/ledger.js'
import type { Page, Store } from '../../core/model/store.js'
import type { AbilityTask, TaskStatus } from '../../core/model/task.js'
import { idempotencyScope } from '../../core/tasks/idempotency.js'
import { aTask } from './records.js'

/** Where one test's data lives: fresh for the test, removed by `cleanup`. */
export interface StoreLocation {
  /** A new, not yet opened Store on this location; each call gives another instance over the same data. */
  connect(): Store
  /** Removes the location (after every store on it is closed). */
  cleanup(): Promise<void>
}

/** A fixed past instant: fixture times count up from it, far below `Date.now()`. */
const T0 = 1_700_000_000_000

export function storeConformance(name: string, makeLocation: () => Promise<StoreLocation>): void {
  describe(name, () => {
    let location: StoreLocation
    /** The open store of the current test (`reopen` replaces it). */
    let store: Store
    let open = false
    let clock = T0
    const tick = () => ++clock

    beforeEach(async () => {
      clock = T0
      location = await makeLocation()
      store = location.connect()
      await store.open()
      open = true
    })

    afterEach(async () => {
      try {
        if (open) await store.close()
        open = false
      } finally {
        await location.cleanup()
      }
    })

    /** Closes the store and opens a new instance on the same location, as a restart does. */
    async function reopen(): Promise<Store> {
      await store.close()
      open = false
      store = location.connect()
      await store.open()
      open = true
      return store
    }

    const makeLog = (n: number, over: Partial<InvocationLog> = {}): InvocationLog => ({
      logId: `log-${n}`,
      abilityId: 'render',
      executorId: 'mock',
      userId: 'alice',
      taskId: `task-${n}`,
      attempt: 1,
      status: 'succeeded',
      durationMs: 10 + n,
      cost: { points: 2 },
      request: { inputs: { prompt: `p${n}` } },
      raw: { provider: 'mock', n },
      createdAt: new Date(tick()).toISOString(),
      ...over,
    })

    const makeTask = (id: string, over: Partial<AbilityTask> = {}) =>
      aTask(id, { createdAt: tick(), ...over })

    const makeJob = (id: string, over: Partial<WorkflowJob> = {}): WorkflowJob => ({
      id,
      seq: 0,
      workflowId: 'thumbnails',
      userId: 'alice',
      params: { size: 256 },
      status: 'pending',
      progress: 0,
      plan: {
        steps: [
          {
            id: 'resize',
            ability: 'render',
            with: { prompt: 'a thumbnail' },
            needs: [],
            continueOnError: false,
            weight: 1,
          },
        ],
      },
      steps: { resize: { status: 'pending', items: '' } },
      consumed: false,
      createdAt: tick(),
      ...over,
    })

    const makeDelivery = (id: string, over: Partial<CallbackDelivery> = {}): CallbackDelivery => {
      const at = tick()
      return {
        id,
        url: 'https://hooks.example.com/gantry',
        headers: { 'x-tenant': 'acme' },
        body: { status: 'succeeded', taskId: 'task-1', result: { texts: ['hi'] } },
        userId: 'alice',
        taskId: 'task-1',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        createdAt: at,
        ...over,
      }
    }

    const makeIdempotency = (scope: string, over: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
      scope,
      fingerprint: `fp-${scope}`,
      status: 202,
      createdAt: tick(),
      ...over,
    })

    /** A changed copy: never mutate what was handed to the store (an in-memory store may keep it). */
    const changed = <T>(value: T, over: Partial<T>): T => ({ ...structuredClone(value), ...over })

    /** Ends a task the way a runner does: conditional on its attempt, with the hold settled if asked. */
    async function end(task: AbilityTask, status: TaskStatus, finishedAt = tick(), charge?: number) {
      const ended = changed(task, { status, finishedAt, progress: 1 })
      const saved = await store.tasks.save(
        ended,
        { attempts: task.attempts, status: ['queued', 'running'] },
        charge === undefined ? {} : { charge },
      )
      expect(saved).toBe(true)
      return ended
    }

    /** Every page of a listing, following cursors; `between` runs before each next page. */
    async function allPages<T>(
      list: (cursor?: string) => Promise<Page<T>>,
      between: (page: number) => Promise<void> = async () => {},
    ): Promise<T[][]> {
      const pages: T[][] = []
      let cursor: string | undefined
      do {
        const page = await list(cursor)
        pages.push(page.items)
        cursor = page.nextCursor
        if (cursor) await between(pages.length)
        expect(pages.length).toBeLessThan(100)
      } while (cursor)
      return pages
    }

    const ids = (items: { id: string }[]) => items.map((i) => i.id)

    describe('logs', () => {
      it('appends, gets a log as written, and lists newest first filtered by ability and user', async () => {
        const written: InvocationLog[] = []
        for (let n = 1; n <= 6; n++) {
          const log = makeLog(n, {
            abilityId: n % 3 === 0 ? 'upscale' : 'render',
            userId: n % 2 ? 'alice' : 'bob',
            ...(n === 4 ? { status: 'failed', errorCode: 'PROVIDER_ERROR', errorDetail: 'boom' } : {}),
          })
          written.push(log)
          await store.logs.append(log)
        }
        expect(await store.logs.get('log-4')).toEqual(written[3])
        expect(await store.logs.get('log-missing')).toBeUndefined()

        const all = await store.logs.list({ limit: 10 })
        expect(all.items.map((l) => l.logId)).toEqual(['log-6', 'log-5', 'log-4', 'log-3', 'log-2', 'log-1'])
        expect(all.nextCursor).toBeUndefined()
        expect(
          (await store.logs.list({ abilityId: 'upscale', limit: 10 })).items.map((l) => l.logId),
        ).toEqual(['log-6', 'log-3'])
        expect((await store.logs.list({ userId: 'alice', limit: 10 })).items.map((l) => l.logId)).toEqual([
          'log-5',
          'log-3',
          'log-1',
        ])
        const both = await store.logs.list({ userId: 'bob', abilityId: 'render', limit: 10 })
        expect(both.items.map((l) => l.logId)).toEqual(['log-4', 'log-2'])
      })

      it('cursor pages neither skip nor repeat while new logs are appended, and the last has no cursor', async () => {
        for (let n = 1; n <= 7; n++) await store.logs.append(makeLog(n))
        let next = 100
        const pages = await allPages(
          (cursor) => store.logs.list({ limit: 3, cursor }),
          async () => {
            await store.logs.append(makeLog(next++))
            await store.logs.append(makeLog(next++))
          },
        )
        expect(pages.map((p) => p.map((l) => l.logId))).toEqual([
          ['log-7', 'log-6', 'log-5'],
          ['log-4', 'log-3', 'log-2'],
          ['log-1'],
        ])
        // exactly `limit` left: the page that takes them is the last one
        const exact = await store.logs.list({ userId: 'alice', limit: 11 })
        expect(exact.items).toHaveLength(11)
        expect(exact.nextCursor).toBeUndefined()
      })
      it('removeBefore drops only logs written before the cutoff, and says how many it dropped', async () => {
        for (let n = 1; n <= 4; n++) {
          await store.logs.append(makeLog(n, { createdAt: new Date(T0 - 100_000 + n).toISOString() }))
        }
        for (let n = 5; n <= 8; n++) await store.logs.append(makeLog(n))
        // an implementation may drop old logs in whole files, so fewer than all of them may go
        const removed = await store.logs.removeBefore(T0)
        const left = (await store.logs.list({ limit: 100 })).items.map((l) => l.logId)
        expect(left.slice(0, 4)).toEqual(['log-8', 'log-7', 'log-6', 'log-5'])
        expect(left).toHaveLength(8 - removed)
        for (let n = 1; n <= 4; n++) {
          expect((await store.logs.get(`log-${n}`)) === undefined).toBe(!left.includes(`log-${n}`))
        }
      })
    })

    describe('tasks', () => {
      it('insert assigns increasing seq, and get returns the task as stored', async () => {
        const first = makeTask('task-a')
        const second = makeTask('task-b', {
          userId: 'bob',
          priority: 5,
          payload: {
            inputs: { prompt: 'a cat', steps: 20, nested: { list: [1, 'two', null] } },
            metadata: { source: 'test' },
            callbackUrl: 'https://hooks.example.com/x',
            callbackHeaders: { 'x-k': 'v' },
          },
          runAfter: T0 + 500,
          callback: { deliveryId: 'cb-1' },
          job: { jobId: 'job-1', stepId: 'resize', item: 2 },
          overrides: { retry: { max: 3, backoffMs: 100 }, timeoutMs: 5000 },
        })
        await store.tasks.insert(first)
        await store.tasks.insert(second)
        // the caller's task carries its seq (the runner hands that object back)
        expect(first.seq).toBeGreaterThan(0)
        expect(second.seq).toBeGreaterThan(first.seq)
        expect(await store.tasks.get('task-a')).toEqual(first)
        expect(await store.tasks.get('task-b')).toEqual(second)
        expect(await store.tasks.get('task-missing')).toBeUndefined()

        // an ended task with everything set reads back the same
        const running = changed(second, {
          status: 'running',
          attempts: 1,
          startedAt: tick(),
          stage: 'sampling',
        })
        expect(await store.tasks.save(running, { attempts: 0, status: ['queued'] })).toBe(true)
        const done = changed(running, {
          status: 'succeeded',
          progress: 1,
          logId: 'log-9',
          externalId: 'ext-1',
          eta: 0,
          finishedAt: tick(),
          resultPayload: {
            status: 'succeeded',
            logId: 'log-9',
            taskId: 'task-b',
            durationMs: 42,
            attempts: 1,
            images: [{ url: 'https://cdn.example.com/a.png', mimeType: 'image/png', width: 64, height: 64 }],
            videos: [],
            texts: ['ok'],
            assets: [],
            cost: { points: 3 },
            raw: { id: 'r1' },
          },
        })
        expect(await store.tasks.save(done, { attempts: 1, status: ['running'] })).toBe(true)
        expect(await store.tasks.get('task-b')).toEqual(done)
      })

      it('lists newest first, filtered by user, status and ability', async () => {
        const specs: [string, string, string, TaskStatus][] = [
          ['t1', 'alice', 'render', 'queued'],
          ['t2', 'bob', 'upscale', 'queued'],
          ['t3', 'alice', 'upscale', 'running'],
          ['t4', 'bob', 'render', 'running'],
          ['t5', 'alice', 'render', 'succeeded'],
          ['t6', 'bob', 'upscale', 'failed'],
        ]
        for (const [id, userId, abilityId, status] of specs) {
          const task = makeTask(id, { userId, abilityId })
          await store.tasks.insert(task)
          if (status === 'running') {
            await store.tasks.save(changed(task, { status, attempts: 1 }), { attempts: 0 })
          } else if (status !== 'queued') {
            await end(task, status)
          }
        }
        const list = async (q: object) => ids((await store.tasks.list({ limit: 10, ...q })).items)
        expect(await list({})).toEqual(['t6', 't5', 't4', 't3', 't2', 't1'])
        expect(await list({ userId: 'alice' })).toEqual(['t5', 't3', 't1'])
        expect(await list({ status: 'running' })).toEqual(['t4', 't3'])
        expect(await list({ status: 'queued' })).toEqual(['t2', 't1'])
        expect(await list({ abilityId: 'upscale' })).toEqual(['t6', 't3', 't2'])
        expect(await list({ userId: 'bob', abilityId: 'upscale', status: 'failed' })).toEqual(['t6'])
        expect(await list({ userId: 'nobody' })).toEqual([])
        // listed tasks are whole, as stored
        const [t6] = (await store.tasks.list({ limit: 1 })).items
        expect(t6).toEqual(await store.tasks.get('t6'))
      })

      it('cursor pages stay stable while tasks keep arriving', async () => {
        for (let n = 1; n <= 8; n++)
          await store.tasks.insert(makeTask(`t${n}`, { userId: n % 2 ? 'alice' : 'bob' }))
        let next = 100
        const pages = await allPages(
          (cursor) => store.tasks.list({ limit: 3, cursor }),
          async () => {
            await store.tasks.insert(makeTask(`t${next++}`))
            await store.tasks.insert(makeTask(`t${next++}`, { userId: 'bob' }))
          },
        )
        expect(pages.map(ids)).toEqual([
          ['t8', 't7', 't6'],
          ['t5', 't4', 't3'],
          ['t2', 't1'],
        ])
        const bobPages = await allPages(
          (cursor) => store.tasks.list({ userId: 'bob', limit: 2, cursor }),
          async () => store.tasks.insert(makeTask(`t${next++}`, { userId: 'bob' })),
        )
        const bob = bobPages.flat().map((t) => t.id)
        expect(new Set(bob).size).toBe(bob.length)
        // the bob tasks that existed when the first page was read, each once, newest first
        expect(bob.slice(-4)).toEqual(['t8', 't6', 't4', 't2'])
      })

      it('save with `expect`: a stale attempt or status changes nothing', async () => {
        const task = makeTask('t1')
        await store.tasks.insert(task)
        const claimed = changed(task, { status: 'running', attempts: 1, startedAt: tick() })
        expect(await store.tasks.save(claimed, { attempts: 0, status: ['queued'] })).toBe(true)
        const stored = structuredClone(await store.tasks.get('t1'))
        expect(stored).toEqual(claimed)

        // an older attempt finishing late
        const stale = changed(claimed, { status: 'failed', attempts: 0, finishedAt: tick() })
        expect(await store.tasks.save(stale, { attempts: 0 })).toBe(false)
        expect(await store.tasks.get('t1')).toEqual(stored)
        // a status the change does not apply to
        const requeued = changed(claimed, { status: 'queued' })
        expect(await store.tasks.save(requeued, { attempts: 1, status: ['queued'] })).toBe(false)
        expect(await store.tasks.get('t1')).toEqual(stored)
        // both met
        const done = changed(claimed, { status: 'succeeded', finishedAt: tick() })
        expect(await store.tasks.save(done, { attempts: 1, status: ['queued', 'running'] })).toBe(true)
        expect(await store.tasks.get('t1')).toEqual(done)
        // ended: a second end is refused
        expect(
          await store.tasks.save(changed(done, { status: 'canceled' }), { status: ['queued', 'running'] }),
        ).toBe(false)
        expect((await store.tasks.get('t1'))?.status).toBe('succeeded')
        // a task that was never inserted is not created by a conditional save
        expect(await store.tasks.save(makeTask('ghost'), { attempts: 0 })).toBe(false)
        expect(await store.tasks.get('ghost')).toBeUndefined()
      })

      it('save with deliveries queues them in the outbox, due at once', async () => {
        const task = makeTask('t1', { callback: { deliveryId: 'cb-t1' } })
        await store.tasks.insert(task)
        const delivery = makeDelivery('cb-t1', { taskId: 't1' })
        const ended = changed(task, { status: 'succeeded', finishedAt: tick() })
        expect(await store.tasks.save(ended, { attempts: 0 }, { deliveries: [delivery] })).toBe(true)
        expect(await store.outbox.get('cb-t1')).toEqual(delivery)
        expect(ids(await store.outbox.due(Date.now(), 10))).toEqual(['cb-t1'])

        // a stale save queues nothing
        const other = makeTask('t2')
        await store.tasks.insert(other)
        const late = changed(other, { status: 'failed', finishedAt: tick() })
        expect(
          await store.tasks.save(
            late,
            { attempts: 7 },
            { deliveries: [makeDelivery('cb-t2', { taskId: 't2' })] },
          ),
        ).toBe(false)
        expect(await store.outbox.get('cb-t2')).toBeUndefined()
      })

      it('unfinished: the queued and running tasks only, oldest first', async () => {
        const statuses: TaskStatus[] = [
          'running',
          'succeeded',
          'queued',
          'failed',
          'queued',
          'canceled',
          'running',
        ]
        for (const [i, status] of statuses.entries()) {
          const task = makeTask(`t${i + 1}`)
          await store.tasks.insert(task)
          if (status === 'running')
            await store.tasks.save(changed(task, { status, attempts: 1 }), { attempts: 0 })
          else if (status !== 'queued') await end(task, status)
        }
        const unfinished = await store.tasks.unfinished()
        expect(ids(unfinished)).toEqual(['t1', 't3', 't5', 't7'])
        expect(unfinished.map((t) => t.status)).toEqual(['running', 'queued', 'queued', 'running'])
        expect(unfinished[0]).toEqual(await store.tasks.get('t1'))
      })

      it('removeEndedBefore drops only ended tasks that finished before the cutoff', async () => {
        const old = makeTask('old', { createdAt: T0 - 10_000 })
        const oldFailed = makeTask('old-failed', { createdAt: T0 - 10_000 })
        const recent = makeTask('recent')
        const waiting = makeTask('waiting', { createdAt: T0 - 10_000 })
        const running = makeTask('running', { createdAt: T0 - 10_000 })
        for (const t of [old, oldFailed, recent, waiting, running]) await store.tasks.insert(t)
        await end(old, 'succeeded', T0 - 5_000)
        await end(oldFailed, 'failed', T0 - 4_000)
        await end(recent, 'succeeded', T0 + 5_000)
        await store.tasks.save(changed(running, { status: 'running', attempts: 1 }), { attempts: 0 })

        expect(await store.tasks.removeEndedBefore(T0)).toBe(2)
        expect(await store.tasks.get('old')).toBeUndefined()
        expect(await store.tasks.get('old-failed')).toBeUndefined()
        for (const id of ['recent', 'waiting', 'running']) expect(await store.tasks.get(id)).toBeDefined()
        expect(ids((await store.tasks.list({ limit: 10 })).items)).toEqual(['running', 'waiting', 'recent'])
        expect(await store.tasks.removeEndedBefore(T0)).toBe(0)
      })
    })

    describe('idempotency', () => {
      it('a record written with a task or a job is found by scope; removeBefore drops old ones', async () => {
        const forTask = makeIdempotency('alice:key-1', { taskId: 't1', createdAt: T0 - 10_000 })
        await store.tasks.insert(makeTask('t1'), { idempotency: forTask })
        const forJob = makeIdempotency('alice:key-2', { jobId: 'j1', status: 201, createdAt: T0 + 10_000 })
        await store.jobs.insert(makeJob('j1'), forJob)

        expect(await store.idempotency.get('alice:key-1')).toEqual(forTask)
        expect(await store.idempotency.get('alice:key-2')).toEqual(forJob)
        expect(await store.idempotency.get('bob:key-1')).toBeUndefined()

        expect(await store.idempotency.removeBefore(T0)).toBe(1)
        expect(await store.idempotency.get('alice:key-1')).toBeUndefined()
        expect(await store.idempotency.get('alice:key-2')).toEqual(forJob)
        // the task it answered for stays
        expect(await store.tasks.get('t1')).toBeDefined()
      })

      it('scopes made by idempotencyScope are stored as they are, and two users never share one', async () => {
        const mine = makeIdempotency(idempotencyScope('a', 'b:c'), { taskId: 't1' })
        await store.tasks.insert(makeTask('t1'), { idempotency: mine })
        expect(await store.idempotency.get(idempotencyScope('a', 'b:c'))).toEqual(mine)
        expect(await store.idempotency.get(idempotencyScope('a:b', 'c'))).toBeUndefined()
      })
    })

    describe('ledger', () => {
      const entries = async (userId?: string) => (await store.ledger.list({ userId, limit: 1000 })).items

      it('a grant credits the wallet; an unknown user has an empty one', async () => {
        expect(await store.ledger.wallet('nobody')).toEqual({
          userId: 'nobody',
          balance: 0,
          frozen: 0,
          available: 0,
        })
        const entry = await store.ledger.grant('alice', 100, 'welcome', 'admin')
        expect(entry).toMatchObject({
          userId: 'alice',
          kind: 'grant',
          points: 100,
          reason: 'welcome',
          actor: 'admin',
          balance: 100,
          frozen: 0,
        })
        expect(typeof entry.id).toBe('string')
        expect(typeof entry.createdAt).toBe('number')
        await store.ledger.grant('alice', -30, 'refund clawback', 'admin', 'adjust')
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 70,
          frozen: 0,
          available: 70,
        })
        expect(await entries('alice')).toEqual([
          expect.objectContaining({ kind: 'adjust', points: -30, balance: 70, frozen: 0 }),
          entry,
        ])
      })

      it('a grant that would take a balance past MAX_BALANCE throws BALANCE_LIMIT and changes nothing', async () => {
        await store.ledger.grant('alice', MAX_BALANCE - 1, 'welcome', 'admin')
        await expect(store.ledger.grant('alice', 2, 'more', 'admin')).rejects.toMatchObject({
          code: 'BALANCE_LIMIT',
        })
        expect((await store.ledger.wallet('alice')).balance).toBe(MAX_BALANCE - 1)
        expect(await entries('alice')).toHaveLength(1)
      })

      it('a task inserted with holdPoints freezes them and records a hold entry', async () => {
        await store.ledger.grant('alice', 100, 'welcome', 'admin')
        await store.tasks.insert(makeTask('t1'), { holdPoints: 30 })
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 100,
          frozen: 30,
          available: 70,
        })
        const [hold] = await entries('alice')
        expect(hold).toMatchObject({
          userId: 'alice',
          kind: 'hold',
          points: 30,
          holdKey: 'task:t1',
          taskId: 't1',
          balance: 100,
          frozen: 30,
        })
        expect(await store.ledger.openHolds()).toEqual([
          expect.objectContaining({ holdKey: 'task:t1', userId: 'alice', points: 30, taskId: 't1' }),
        ])
        // no hold for 0 points
        await store.tasks.insert(makeTask('t2'), { holdPoints: 0 })
        expect(await entries('alice')).toHaveLength(2)
      })

      it('a hold the wallet cannot cover throws INSUFFICIENT_CREDITS and inserts nothing', async () => {
        await store.ledger.grant('alice', 10, 'welcome', 'admin')
        const idempotency = makeIdempotency('alice:k', { taskId: 'poor' })
        await expect(
          store.tasks.insert(makeTask('poor'), { holdPoints: 25, idempotency }),
        ).rejects.toMatchObject({
          code: 'INSUFFICIENT_CREDITS',
          details: { required: 25, available: 10 },
        })
        expect(await store.tasks.get('poor')).toBeUndefined()
        expect((await store.tasks.list({ limit: 10 })).items).toEqual([])
        expect(await store.tasks.unfinished()).toEqual([])
        expect(await store.idempotency.get('alice:k')).toBeUndefined()
        expect((await entries('alice')).map((e) => e.kind)).toEqual(['grant'])
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 10,
          frozen: 0,
          available: 10,
        })
        expect(await store.ledger.openHolds()).toEqual([])
        // a user with no wallet at all
        await expect(
          store.tasks.insert(makeTask('broke', { userId: 'bob' }), { holdPoints: 1 }),
        ).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS', details: { required: 1, available: 0 } })
        expect(await store.tasks.get('broke')).toBeUndefined()
      })

      it('20 concurrent priced inserts of 18 points against 100: exactly 5 succeed, never overdrawn', async () => {
        await store.ledger.grant('alice', 100, 'welcome', 'admin')
        const tasks = Array.from({ length: 20 }, (_, i) => makeTask(`c${i}`))
        const results = await Promise.allSettled(tasks.map((t) => store.tasks.insert(t, { holdPoints: 18 })))
        const accepted = tasks.filter((_, i) => results[i].status === 'fulfilled')
        expect(accepted).toHaveLength(5)
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'INSUFFICIENT_CREDITS' })
        }
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 100,
          frozen: 90,
          available: 10,
        })
        const holds = (await entries('alice')).filter((e) => e.kind === 'hold')
        expect(holds).toHaveLength(5)
        for (const e of await entries('alice')) expect(e.balance - e.frozen).toBeGreaterThanOrEqual(0)
        expect(new Set(holds.map((e) => e.taskId))).toEqual(new Set(ids(accepted)))
        expect(ids((await store.tasks.list({ limit: 100 })).items).sort()).toEqual(ids(accepted).sort())
        expect(await store.ledger.openHolds()).toHaveLength(5)
        expect(await store.ledger.verify()).toEqual([])
      })

      it('ending a task with a charge commits it and releases the rest', async () => {
        await store.ledger.grant('alice', 100, 'welcome', 'admin')
        const task = makeTask('t1')
        await store.tasks.insert(task, { holdPoints: 30 })
        await end(task, 'succeeded', tick(), 12)
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 88,
          frozen: 0,
          available: 88,
        })
        const [release, commit] = await entries('alice')
        expect(commit).toMatchObject({ kind: 'commit', points: 12, holdKey: 'task:t1', taskId: 't1' })
        expect(release).toMatchObject({ kind: 'release', points: 18, holdKey: 'task:t1', taskId: 't1' })
        expect(await store.ledger.openHolds()).toEqual([])
      })

      it('a charge of 0 releases the whole hold', async () => {
        await store.ledger.grant('alice', 50, 'welcome', 'admin')
        const task = makeTask('t1')
        await store.tasks.insert(task, { holdPoints: 20 })
        await end(task, 'failed', tick(), 0)
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 50,
          frozen: 0,
          available: 50,
        })
        expect((await entries('alice')).map((e) => [e.kind, e.points])).toEqual([
          ['release', 20],
          ['hold', 20],
          ['grant', 50],
        ])
      })

      it('a charge beyond the hold commits the hold and adjusts for the rest', async () => {
        await store.ledger.grant('alice', 50, 'welcome', 'admin')
        const task = makeTask('t1')
        await store.tasks.insert(task, { holdPoints: 10 })
        await end(task, 'succeeded', tick(), 14)
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 36,
          frozen: 0,
          available: 36,
        })
        const kinds = (await entries('alice')).map((e) => [e.kind, e.points])
        expect(kinds).toContainEqual(['commit', 10])
        expect(kinds).toContainEqual(['adjust', -4])
        expect(kinds.filter(([k]) => k === 'release')).toEqual([])
        expect(await store.ledger.verify()).toEqual([])
      })

      it('a charge beyond the hold stops at what the wallet covers, and the task says what it cost', async () => {
        await store.ledger.grant('alice', 30, 'welcome', 'admin')
        const task = makeTask('t1')
        await store.tasks.insert(task, { holdPoints: 10 })
        const ended = changed(task, {
          status: 'succeeded' as const,
          resultPayload: { cost: { points: 65 } } as never,
        })
        expect(await store.tasks.save(ended, { attempts: 0 }, { charge: 65 })).toBe(true)
        expect(await store.ledger.wallet('alice')).toMatchObject({ balance: 0, frozen: 0 })
        expect((await store.tasks.get('t1'))?.resultPayload?.cost).toEqual({ points: 30 })
        expect(await store.ledger.verify()).toEqual([])
      })

      it('settling a hold twice changes nothing', async () => {
        await store.ledger.grant('alice', 50, 'welcome', 'admin')
        const task = makeTask('t1')
        await store.tasks.insert(task, { holdPoints: 10 })
        const ended = await end(task, 'succeeded', tick(), 4)
        const before = await entries('alice')
        expect(await store.ledger.settle('task:t1', 10)).toEqual([])
        // a (replayed) save with a charge settles nothing more
        expect(await store.tasks.save(changed(ended, { progress: 1 }), undefined, { charge: 9 })).toBe(true)
        expect(await entries('alice')).toEqual(before)
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 46,
          frozen: 0,
          available: 46,
        })
      })

      it('a sync hold and settle with an invoke: key', async () => {
        await store.ledger.grant('alice', 40, 'welcome', 'admin')
        expect(await store.ledger.hold('alice', 'invoke:r1', 0)).toBeUndefined()
        const hold = await store.ledger.hold('alice', 'invoke:r1', 15)
        expect(hold).toMatchObject({
          userId: 'alice',
          kind: 'hold',
          points: 15,
          holdKey: 'invoke:r1',
          frozen: 15,
        })
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 40,
          frozen: 15,
          available: 25,
        })
        expect(await store.ledger.openHolds()).toEqual([
          expect.objectContaining({ holdKey: 'invoke:r1', userId: 'alice', points: 15 }),
        ])
        await expect(store.ledger.hold('alice', 'invoke:r2', 26)).rejects.toMatchObject({
          code: 'INSUFFICIENT_CREDITS',
          details: { required: 26, available: 25 },
        })

        const settled = await store.ledger.settle('invoke:r1', 5)
        expect(settled.map((e) => [e.kind, e.points, e.holdKey])).toEqual([
          ['commit', 5, 'invoke:r1'],
          ['release', 10, 'invoke:r1'],
        ])
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 35,
          frozen: 0,
          available: 35,
        })
        expect(await store.ledger.settle('invoke:r1', 5)).toEqual([])
        expect(await store.ledger.settle('invoke:never', 5)).toEqual([])
        expect(await store.ledger.openHolds()).toEqual([])
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 35,
          frozen: 0,
          available: 35,
        })
      })

      it('openHolds lists every open hold, of every user', async () => {
        await store.ledger.grant('alice', 100, 'welcome', 'admin')
        await store.ledger.grant('bob', 100, 'welcome', 'admin')
        const t1 = makeTask('t1')
        await store.tasks.insert(t1, { holdPoints: 10 })
        await store.tasks.insert(makeTask('t2', { userId: 'bob' }), { holdPoints: 20 })
        await store.ledger.hold('alice', 'invoke:r1', 5)
        await end(t1, 'succeeded', tick(), 10)
        const open = await store.ledger.openHolds()
        expect(open.map((h) => h.holdKey).sort()).toEqual(['invoke:r1', 'task:t2'])
        expect(open.find((h) => h.holdKey === 'task:t2')).toMatchObject({
          userId: 'bob',
          points: 20,
          taskId: 't2',
        })
      })

      it('lists entries newest first, per user or all, in cursor pages', async () => {
        for (let n = 1; n <= 5; n++) {
          await store.ledger.grant('alice', n, `a${n}`, 'admin')
          await store.ledger.grant('bob', n * 10, `b${n}`, 'admin')
        }
        const pages = await allPages(
          (cursor) => store.ledger.list({ userId: 'alice', limit: 2, cursor }),
          async () => {
            await store.ledger.grant('alice', 1000, 'late', 'admin')
          },
        )
        expect(pages.map((p) => p.map((e) => e.reason))).toEqual([['a5', 'a4'], ['a3', 'a2'], ['a1']])
        const everyone = (await store.ledger.list({ limit: 4 })).items
        expect(everyone.map((e) => e.reason)).toEqual(['late', 'late', 'b5', 'a5'])
        const entriesAll = await allPages((cursor) => store.ledger.list({ limit: 3, cursor }))
        expect(entriesAll.flat()).toHaveLength(12)
        expect(new Set(entriesAll.flat().map((e: LedgerEntry) => e.id)).size).toBe(12)
      })

      it('verify finds nothing wrong with a consistent ledger', async () => {
        expect(await store.ledger.verify()).toEqual([])
        await store.ledger.grant('alice', 100, 'welcome', 'admin')
        await store.ledger.grant('bob', 10, 'welcome', 'admin')
        const t1 = makeTask('t1')
        await store.tasks.insert(t1, { holdPoints: 30 })
        await store.tasks.insert(makeTask('t2', { userId: 'bob' }), { holdPoints: 10 })
        await store.ledger.hold('alice', 'invoke:r1', 5)
        await store.ledger.settle('invoke:r1', 2.5)
        await end(t1, 'succeeded', tick(), 33.3)
        await store.ledger.grant('bob', -1, 'fix', 'admin', 'adjust')
        expect(await store.ledger.verify()).toEqual([])
        expect(await store.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 64.2,
          frozen: 0,
          available: 64.2,
        })
      })
    })

    describe('outbox', () => {
      it('update stores deliveries; due lists pending ones that are due, oldest first, at most limit', async () => {
        const later = makeDelivery('d-later')
        const first = makeDelivery('d-first', { createdAt: T0 - 100, nextAttemptAt: T0 - 100 })
        const middle = makeDelivery('d-middle', { createdAt: T0 - 50, nextAttemptAt: T0 - 50 })
        const delivered = makeDelivery('d-delivered', {
          createdAt: T0 - 200,
          nextAttemptAt: T0 - 200,
          status: 'delivered',
          deliveredAt: T0 - 150,
          attempts: 1,
          lastStatus: 200,
        })
        const stopped = makeDelivery('d-stopped', { createdAt: T0 - 300, status: 'stopped', lastStatus: 410 })
        const future = makeDelivery('d-future', { nextAttemptAt: Date.now() + 3_600_000 })
        for (const d of [later, future, middle, delivered, first, stopped]) await store.outbox.update(d)

        expect(await store.outbox.get('d-delivered')).toEqual(delivered)
        expect(ids(await store.outbox.due(Date.now(), 10))).toEqual(['d-first', 'd-middle', 'd-later'])
        expect(ids(await store.outbox.due(Date.now(), 2))).toEqual(['d-first', 'd-middle'])
        expect(ids(await store.outbox.due(T0 - 60, 10))).toEqual(['d-first'])

        // a retry pushed later, then delivered: not due any more
        const retried = changed(first, {
          attempts: 1,
          lastStatus: 500,
          lastError: 'HTTP 500',
          nextAttemptAt: Date.now() + 60_000,
        })
        await store.outbox.update(retried)
        expect(await store.outbox.get('d-first')).toEqual(retried)
        expect(ids(await store.outbox.due(Date.now(), 10))).toEqual(['d-middle', 'd-later'])
        await store.outbox.update(
          changed(middle, { status: 'delivered', attempts: 1, deliveredAt: Date.now() }),
        )
        expect(ids(await store.outbox.due(Date.now(), 10))).toEqual(['d-later'])
        expect(await store.outbox.get('d-missing')).toBeUndefined()
      })

      it('removeSettledBefore drops settled deliveries and never a pending one', async () => {
        const now = Date.now()
        const settled = [
          makeDelivery('delivered', {
            createdAt: now - 5_000,
            status: 'delivered',
            deliveredAt: now - 4_000,
          }),
          makeDelivery('failed', { createdAt: now - 5_000, nextAttemptAt: now - 4_000, status: 'failed' }),
          makeDelivery('stopped', { createdAt: now - 5_000, nextAttemptAt: now - 4_000, status: 'stopped' }),
        ]
        const pending = makeDelivery('pending', { createdAt: now - 5_000, nextAttemptAt: now - 5_000 })
        for (const d of [...settled, pending]) await store.outbox.update(d)
        // a cutoff after every write, however "last touched" is kept
        expect(await store.outbox.removeSettledBefore(Date.now() + 60_000)).toBe(3)
        for (const d of settled) expect(await store.outbox.get(d.id)).toBeUndefined()
        expect(await store.outbox.get('pending')).toEqual(pending)
      })

      it('removeSettledBefore goes by when each was last touched: delivered, else its last attempt', async () => {
        const settledOld = [
          makeDelivery('delivered-old', {
            createdAt: T0 - 9_000,
            status: 'delivered',
            deliveredAt: T0 - 8_000,
          }),
          makeDelivery('failed-old', { createdAt: T0 - 9_000, nextAttemptAt: T0 - 7_000, status: 'failed' }),
          makeDelivery('stopped-old', {
            createdAt: T0 - 9_000,
            nextAttemptAt: T0 - 7_000,
            status: 'stopped',
          }),
        ]
        const kept = [
          makeDelivery('delivered-new', {
            createdAt: T0 - 9_000,
            status: 'delivered',
            deliveredAt: T0 + 8_000,
          }),
          makeDelivery('pending-old', { createdAt: T0 - 9_000, nextAttemptAt: T0 - 9_000 }),
        ]
        for (const d of [...settledOld, ...kept]) await store.outbox.update(d)
        expect(await store.outbox.removeSettledBefore(T0)).toBe(3)
        for (const d of settledOld) expect(await store.outbox.get(d.id)).toBeUndefined()
        for (const d of kept) expect(await store.outbox.get(d.id)).toEqual(d)
        expect(ids(await store.outbox.due(Date.now(), 10))).toEqual(['pending-old'])
        expect(await store.outbox.removeSettledBefore(T0)).toBe(0)
      })
    })

    describe('jobs', () => {
      it('insert assigns increasing seq; save and get round-trip the job', async () => {
        const a = makeJob('j1')
        const b = makeJob('j2', {
          projectId: 'p1',
          singletonKey: 'nightly',
          callbackUrl: 'https://hooks.example.com/j',
          callbackHeaders: { 'x-k': 'v' },
          callback: { deliveryId: 'cb-j2' },
        })
        await store.jobs.insert(a)
        await store.jobs.insert(b)
        expect(a.seq).toBeGreaterThan(0)
        expect(b.seq).toBeGreaterThan(a.seq)
        expect(await store.jobs.get('j1')).toEqual(a)
        expect(await store.jobs.get('j2')).toEqual(b)
        expect(await store.jobs.get('j-missing')).toBeUndefined()

        const done = changed(b, {
          status: 'completed',
          progress: 1,
          startedAt: tick(),
          finishedAt: tick(),
          steps: {
            resize: {
              status: 'succeeded',
              items: 'sf',
              keptRounds: { '0': 1 },
              settled: true,
            },
          },
          output: { thumbs: ['a'] },
        })
        const delivery = makeDelivery('cb-j2', { jobId: 'j2' })
        delete delivery.taskId
        await store.jobs.save(done, [delivery])
        expect(await store.jobs.get('j2')).toEqual(done)
        expect(await store.outbox.get('cb-j2')).toEqual(delivery)
        expect(ids(await store.outbox.due(Date.now(), 10))).toEqual(['cb-j2'])
      })

      it('a job read is a copy: changing it changes nothing stored until it is saved', async () => {
        await store.jobs.insert(makeJob('j1', { singletonKey: 'k' }))
        const read = (await store.jobs.get('j1'))!
        read.status = 'completed'
        read.steps.resize = { status: 'succeeded', items: 's', settled: true }
        const listed = (await store.jobs.list({ limit: 10 })).items[0]
        listed.progress = 0.5
        ;(await store.jobs.unfinished())[0].status = 'failed'
        ;(await store.jobs.activeWithSingleton('alice', 'k'))!.status = 'canceled'
        const stored = (await store.jobs.get('j1'))!
        expect(stored.status).toBe('pending')
        expect(stored.progress).toBe(0)
        expect(stored.steps.resize.status).toBe('pending')
        await store.jobs.save(read)
        expect((await store.jobs.get('j1'))!.status).toBe('completed')
      })

      it('lists newest first by user and project; active leaves out consumed jobs; pages by cursor', async () => {
        const specs: [string, string, string | undefined, boolean][] = [
          ['j1', 'alice', 'p1', false],
          ['j2', 'bob', 'p1', false],
          ['j3', 'alice', 'p2', true],
          ['j4', 'alice', undefined, false],
          ['j5', 'bob', 'p2', true],
          ['j6', 'alice', 'p1', false],
        ]
        for (const [id, userId, projectId, consumed] of specs) {
          const job = makeJob(id, { userId, ...(projectId ? { projectId } : {}) })
          await store.jobs.insert(job)
          if (consumed) {
            await store.jobs.save(
              changed(job, { status: 'completed', finishedAt: tick(), consumed: true, consumedAt: tick() }),
            )
          }
        }
        const list = async (q: object) => ids((await store.jobs.list({ limit: 10, ...q })).items)
        expect(await list({})).toEqual(['j6', 'j5', 'j4', 'j3', 'j2', 'j1'])
        expect(await list({ userId: 'alice' })).toEqual(['j6', 'j4', 'j3', 'j1'])
        expect(await list({ projectId: 'p1' })).toEqual(['j6', 'j2', 'j1'])
        expect(await list({ userId: 'alice', projectId: 'p2' })).toEqual(['j3'])
        expect(await list({ active: true })).toEqual(['j6', 'j4', 'j2', 'j1'])
        expect(await list({ userId: 'bob', active: true })).toEqual(['j2'])

        let next = 100
        const pages = await allPages(
          (cursor) => store.jobs.list({ userId: 'alice', limit: 2, cursor }),
          async () => store.jobs.insert(makeJob(`j${next++}`)),
        )
        expect(pages.map(ids)).toEqual([
          ['j6', 'j4'],
          ['j3', 'j1'],
        ])
      })

      it('unfinished and activeWithSingleton see only jobs not yet ended', async () => {
        const statuses = ['running', 'completed', 'pending', 'failed', 'canceled', 'running'] as const
        for (const [i, status] of statuses.entries()) {
          const job = makeJob(`j${i + 1}`, { singletonKey: i < 2 ? 'nightly' : `k${i + 1}` })
          await store.jobs.insert(job)
          if (status !== 'pending') {
            const ended = status !== 'running'
            await store.jobs.save(
              changed(job, { status, startedAt: tick(), ...(ended ? { finishedAt: tick() } : {}) }),
            )
          }
        }
        const unfinished = await store.jobs.unfinished()
        expect(ids(unfinished)).toEqual(['j1', 'j3', 'j6'])
        expect(unfinished[0]).toEqual(await store.jobs.get('j1'))

        expect((await store.jobs.activeWithSingleton('alice', 'nightly'))?.id).toBe('j1')
        expect((await store.jobs.activeWithSingleton('alice', 'k3'))?.id).toBe('j3')
        expect(await store.jobs.activeWithSingleton('alice', 'k4')).toBeUndefined()
        expect(await store.jobs.activeWithSingleton('alice', 'none')).toBeUndefined()
        // once it ends, the key is free
        const j1 = (await store.jobs.get('j1'))!
        await store.jobs.save(changed(j1, { status: 'completed', finishedAt: tick() }))
        expect(await store.jobs.activeWithSingleton('alice', 'nightly')).toBeUndefined()
      })

      it("activeWithSingleton finds only the user's own job: a key is never shared across users", async () => {
        await store.jobs.insert(makeJob('j1', { userId: 'alice', singletonKey: 'same' }))
        expect(await store.jobs.activeWithSingleton('bob', 'same')).toBeUndefined()
        await store.jobs.insert(makeJob('j2', { userId: 'bob', singletonKey: 'same' }))
        expect((await store.jobs.activeWithSingleton('alice', 'same'))?.id).toBe('j1')
        expect((await store.jobs.activeWithSingleton('bob', 'same'))?.id).toBe('j2')
      })

      it('removeFinishedBefore drops only consumed jobs that ended before the cutoff', async () => {
        const base = { createdAt: T0 - 10_000, startedAt: T0 - 9_000 }
        const specs: [string, Partial<WorkflowJob>][] = [
          [
            'consumed-old',
            { status: 'completed', finishedAt: T0 - 5_000, consumed: true, consumedAt: T0 - 4_000 },
          ],
          [
            'failed-old',
            { status: 'failed', finishedAt: T0 - 5_000, consumed: true, consumedAt: T0 - 4_000 },
          ],
          ['unconsumed-old', { status: 'completed', finishedAt: T0 - 5_000 }],
          [
            'consumed-new',
            { status: 'completed', finishedAt: T0 + 5_000, consumed: true, consumedAt: T0 + 6_000 },
          ],
          ['running', { status: 'running' }],
        ]
        for (const [id, over] of specs) {
          const job = makeJob(id, base)
          await store.jobs.insert(job)
          await store.jobs.save(changed(job, over))
        }
        expect(await store.jobs.removeFinishedBefore(T0)).toBe(2)
        expect(await store.jobs.get('consumed-old')).toBeUndefined()
        expect(await store.jobs.get('failed-old')).toBeUndefined()
        for (const id of ['unconsumed-old', 'consumed-new', 'running'])
          expect(await store.jobs.get(id)).toBeDefined()
        expect(ids((await store.jobs.list({ limit: 10 })).items)).toEqual([
          'running',
          'consumed-new',
          'unconsumed-old',
        ])
        expect(await store.jobs.removeFinishedBefore(T0)).toBe(0)
      })

      it("removeEndedBefore keeps a step's task while its job is stored, and lets it go with the job", async () => {
        const job = makeJob('j-kept', { createdAt: T0 - 10_000 })
        await store.jobs.insert(job)
        const step = makeTask('step-old', {
          createdAt: T0 - 10_000,
          job: { jobId: 'j-kept', stepId: 's1', item: 0 },
        })
        const orphan = makeTask('step-orphan', {
          createdAt: T0 - 10_000,
          job: { jobId: 'j-gone', stepId: 's1', item: 0 },
        })
        for (const t of [step, orphan]) await store.tasks.insert(t)
        await end(step, 'succeeded', T0 - 5_000)
        await end(orphan, 'succeeded', T0 - 5_000)

        // the job is not consumed: its step's result stays readable
        expect(await store.tasks.removeEndedBefore(T0)).toBe(1)
        expect(await store.tasks.get('step-old')).toBeDefined()
        expect(await store.tasks.get('step-orphan')).toBeUndefined()

        await store.jobs.save(
          changed(job, {
            status: 'completed',
            finishedAt: T0 - 5_000,
            consumed: true,
            consumedAt: T0 - 4_000,
          }),
        )
        expect(await store.jobs.removeFinishedBefore(T0)).toBe(1)
        expect(await store.tasks.removeEndedBefore(T0)).toBe(1)
        expect(await store.tasks.get('step-old')).toBeUndefined()
      })
    })

    describe('persistence', () => {
      it('a store reopened on the same location has every task, wallet, hold, record, job, delivery and log', async () => {
        await store.ledger.grant('alice', 100, 'welcome', 'admin')
        const queued = makeTask('t-queued')
        await store.tasks.insert(queued, {
          holdPoints: 20,
          idempotency: makeIdempotency('alice:k1', { taskId: 't-queued' }),
        })
        const done = makeTask('t-done')
        await store.tasks.insert(done, { holdPoints: 10 })
        const ended = await end(done, 'succeeded', tick(), 7)
        await store.ledger.hold('alice', 'invoke:r1', 3)
        const job = makeJob('j1', { singletonKey: 'nightly' })
        const jobIdem = makeIdempotency('alice:k2', { jobId: 'j1' })
        await store.jobs.insert(job, jobIdem)
        const delivery = makeDelivery('cb-1')
        await store.outbox.update(delivery)
        const log = makeLog(1)
        await store.logs.append(log)
        const wallet = await store.ledger.wallet('alice')
        const ledger = await store.ledger.list({ limit: 100 })

        const again = await reopen()
        expect(await again.tasks.get('t-queued')).toEqual(queued)
        expect(await again.tasks.get('t-done')).toEqual(ended)
        expect(ids(await again.tasks.unfinished())).toEqual(['t-queued'])
        expect(ids((await again.tasks.list({ limit: 10 })).items)).toEqual(['t-done', 't-queued'])
        expect(await again.idempotency.get('alice:k1')).toMatchObject({
          scope: 'alice:k1',
          taskId: 't-queued',
        })
        expect(await again.idempotency.get('alice:k2')).toEqual(jobIdem)
        expect(await again.ledger.wallet('alice')).toEqual(wallet)
        expect(wallet).toEqual({ userId: 'alice', balance: 93, frozen: 23, available: 70 })
        expect(await again.ledger.list({ limit: 100 })).toEqual(ledger)
        expect((await again.ledger.openHolds()).map((h) => h.holdKey).sort()).toEqual([
          'invoke:r1',
          'task:t-queued',
        ])
        expect(await again.ledger.verify()).toEqual([])
        expect(await again.jobs.get('j1')).toEqual(job)
        expect((await again.jobs.activeWithSingleton('alice', 'nightly'))?.id).toBe('j1')
        expect(await again.outbox.get('cb-1')).toEqual(delivery)
        expect(await again.logs.get('log-1')).toEqual(log)

        // new records continue the order, and the reopened ledger still refuses overdrafts
        const later = makeTask('t-later')
        await again.tasks.insert(later)
        expect(later.seq).toBeGreaterThan(ended.seq)
        const laterJob = makeJob('j2')
        await again.jobs.insert(laterJob)
        expect(laterJob.seq).toBeGreaterThan(job.seq)
        expect(ids((await again.tasks.list({ limit: 1 })).items)).toEqual(['t-later'])
        await expect(again.tasks.insert(makeTask('t-big'), { holdPoints: 71 })).rejects.toMatchObject({
          code: 'INSUFFICIENT_CREDITS',
          details: { required: 71, available: 70 },
        })
        // the open hold is settled after the restart
        await end(queued, 'succeeded', tick(), 20)
        expect(await again.ledger.wallet('alice')).toEqual({
          userId: 'alice',
          balance: 73,
          frozen: 3,
          available: 70,
        })
      })
    })
  })
}
