/**
 * The embedded store when a write fails: a record JSON.stringify cannot
 * serialize, a disk that refuses the write (ENOSPC), a write that lands only
 * part-way. Whatever failed leaves wallets, holds, tasks, idempotency keys,
 * jobs and deliveries exactly as they were, in memory and after a reopen.
 */

import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { WorkflowJob } from '../../core/model/job.js'
import type { AbilityTask } from '../../core/model/task.js'
import { createLowdbStore, type LowdbStore } from '../../core/store/lowdb/index.js'
import { segmentIo } from '../../core/store/lowdb/segment-io.js'
import { eventually, makeTempDir } from '../helpers.js'
import { aTask } from './records.js'

const realWrite = segmentIo.write

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })

/** The next write to any segment file fails: refused outright, or after landing half its bytes. */
const failures = {
  'the disk refuses the write (ENOSPC)': () => {
    vi.spyOn(segmentIo, 'write').mockImplementationOnce(() => {
      throw enospc()
    })
  },
  'the write lands half-way, then the disk is full': () => {
    const spy = vi.spyOn(segmentIo, 'write')
    spy.mockImplementationOnce((fd, data, offset, length) =>
      realWrite(fd, data, offset, Math.ceil(length / 2)),
    )
    spy.mockImplementationOnce(() => {
      throw enospc()
    })
  },
}

/** An object JSON.stringify cannot serialize: it overflows the stack first. */
function deeplyNested(levels = 200_000): Record<string, unknown> {
  let value: Record<string, unknown> = {}
  for (let i = 0; i < levels; i++) value = { m: value }
  return value
}

let clock = 1_700_000_000_000
const makeTask = (id: string, over: Partial<AbilityTask> = {}) => aTask(id, { createdAt: ++clock, ...over })

const makeJob = (id: string): WorkflowJob => ({
  id,
  seq: 0,
  workflowId: 'thumbnails',
  userId: 'alice',
  params: { size: 256 },
  status: 'pending',
  progress: 0,
  plan: { steps: [] },
  steps: {},
  consumed: false,
  createdAt: ++clock,
})

/** What a user or `gantry ledger verify` can see of the store. */
async function seen(store: LowdbStore) {
  return {
    wallet: await store.ledger.wallet('alice'),
    openHolds: await store.ledger.openHolds(),
    ledger: (await store.ledger.list({ userId: 'alice', limit: 100 })).items.map((e) => [e.kind, e.points]),
    verify: await store.ledger.verify(),
    tasks: (await store.tasks.list({ limit: 100 })).items.map((t) => [t.id, t.status, t.seq]),
    unfinished: (await store.tasks.unfinished()).map((t) => [t.id, t.status]),
    idempotency: await store.idempotency.get('alice\u0000key-1'),
    jobs: (await store.jobs.list({ limit: 100 })).items.map((j) => [j.id, j.status]),
    deliveries: (await store.outbox.due(Number.MAX_SAFE_INTEGER, 100)).map((d) => [d.id, d.attempts]),
  }
}

describe('the embedded store when a write fails', () => {
  const dirs: string[] = []
  const stores: LowdbStore[] = []
  async function open(dir?: string) {
    if (!dir) {
      dir = await makeTempDir()
      dirs.push(dir)
    }
    const store = createLowdbStore(dir)
    await store.open()
    stores.push(store)
    return { store, dir }
  }
  async function reopen(store: LowdbStore, dir: string) {
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    return (await open(dir)).store
  }
  /** A store where alice has 100 points, one running priced task holding 30, and one job. */
  async function arranged() {
    const { store, dir } = await open()
    await store.ledger.grant('alice', 100, 'welcome', 'admin')
    await store.tasks.insert(makeTask('t1'), { holdPoints: 30 })
    await store.tasks.save(makeTask('t1', { status: 'running', attempts: 1 }), { status: ['queued'] })
    await store.jobs.insert(makeJob('j1'))
    return { store, dir }
  }
  afterEach(async () => {
    vi.restoreAllMocks()
    for (const store of stores.splice(0)) await store.close().catch(() => {})
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  const inserting = (store: LowdbStore, task = makeTask('t2')) =>
    store.tasks.insert(task, {
      holdPoints: 50,
      idempotency: {
        scope: 'alice\u0000key-1',
        fingerprint: 'f',
        status: 202,
        taskId: task.id,
        createdAt: clock,
      },
    })

  it('a task whose record cannot be serialized (metadata nested 200,000 deep) takes no hold and leaves no task', async () => {
    const { store, dir } = await arranged()
    const before = await seen(store)
    const task = makeTask('t2', { payload: { inputs: {}, metadata: deeplyNested() } })
    await expect(inserting(store, task)).rejects.toThrow()
    expect(await seen(store)).toEqual(before)
    expect(await store.tasks.get('t2')).toBeUndefined()
    // the phantom hold the issue found would have let a sweep write a release for a hold never written
    expect((await store.ledger.openHolds()).map((h) => h.holdKey)).toEqual(['task:t1'])
    expect(await seen(await reopen(store, dir))).toEqual(before)
  })

  it('a save whose record cannot be serialized leaves the task and its hold as they were', async () => {
    const { store, dir } = await arranged()
    const before = await seen(store)
    const ended = makeTask('t1', {
      status: 'succeeded',
      attempts: 1,
      finishedAt: ++clock,
      payload: { inputs: {}, metadata: deeplyNested() },
    })
    await expect(
      store.tasks.save(ended, { status: ['running'], attempts: 1 }, { charge: 20 }),
    ).rejects.toThrow()
    expect(await seen(store)).toEqual(before)
    expect((await store.tasks.get('t1'))?.status).toBe('running')
    expect(await seen(await reopen(store, dir))).toEqual(before)
  })

  for (const [failure, inject] of Object.entries(failures)) {
    describe(`when ${failure}`, () => {
      it('a priced task insert answers STORE_UNAVAILABLE and changes nothing; the next one is written', async () => {
        const { store, dir } = await arranged()
        const before = await seen(store)
        inject()
        await expect(inserting(store)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 })
        expect(await seen(store)).toEqual(before)
        expect(store.availability()).toMatchObject({ writable: false, reason: 'ENOSPC' })
        // the disk takes writes again: the same insert goes through, and the store says so
        await inserting(store)
        expect(store.availability()).toEqual({ writable: true })
        expect((await store.ledger.wallet('alice')).frozen).toBe(80)
        const after = await seen(store)
        expect(after.verify).toEqual([])
        expect(await seen(await reopen(store, dir))).toEqual(after)
      })

      it("a task's end with its charge fails whole: the task runs on, its hold stays open", async () => {
        const { store, dir } = await arranged()
        const before = await seen(store)
        inject()
        const ended = makeTask('t1', { status: 'succeeded', attempts: 1, finishedAt: ++clock })
        await expect(store.tasks.save(ended, { status: ['running'] }, { charge: 20 })).rejects.toMatchObject({
          code: 'STORE_UNAVAILABLE',
        })
        expect(await seen(store)).toEqual(before)
        expect(await seen(await reopen(store, dir))).toEqual(before)
      })

      it('grant, hold and settle that fail leave the wallet as it was', async () => {
        const { store, dir } = await arranged()
        const before = await seen(store)
        for (const attempt of [
          () => store.ledger.grant('alice', 10, 'top-up', 'admin'),
          () => store.ledger.hold('alice', 'invoke:c1', 10),
          () => store.ledger.settle('task:t1', 20),
        ]) {
          inject()
          await expect(attempt()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
          expect(await seen(store)).toEqual(before)
          vi.restoreAllMocks()
        }
        expect(await seen(await reopen(store, dir))).toEqual(before)
      })

      it('a job insert or save, or a delivery update, that fails leaves them as they were', async () => {
        const { store, dir } = await arranged()
        const before = await seen(store)
        inject()
        await expect(store.jobs.insert(makeJob('j2'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
        vi.restoreAllMocks()
        inject()
        const job = { ...makeJob('j1'), status: 'running' as const }
        await expect(store.jobs.save(job)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
        expect(await seen(store)).toEqual(before)
        expect((await store.jobs.get('j1'))?.status).toBe('pending')
        expect(await seen(await reopen(store, dir))).toEqual(before)
      })
    })
  }

  it('every change waiting on a failed write fails with it, newest undone first; the wallet ends as it began', async () => {
    const { store, dir } = await arranged()
    const before = await seen(store)
    failures['the write lands half-way, then the disk is full']()
    // one batch: a grant, inserts holding what the grant made available, and the running task's end
    const results = await Promise.allSettled([
      store.ledger.grant('alice', 200, 'top-up', 'admin'),
      ...Array.from({ length: 5 }, (_, i) => store.tasks.insert(makeTask(`n${i}`), { holdPoints: 50 })),
      store.tasks.save(makeTask('t1', { status: 'succeeded', attempts: 1, finishedAt: ++clock }), undefined, {
        charge: 30,
      }),
    ])
    expect(results.map((r) => r.status)).toEqual(Array(7).fill('rejected'))
    expect(await seen(store)).toEqual(before)
    expect(await seen(await reopen(store, dir))).toEqual(before)
  })

  it('a short write is cut back to the last whole record: no NUL bytes or half a line stay on disk', async () => {
    const { store, dir } = await arranged()
    failures['the write lands half-way, then the disk is full']()
    await expect(inserting(store)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
    await inserting(store, makeTask('t3'))
    const text = await readFile(join(dir, 'journal', 'segment-000001.jsonl'), 'utf8')
    expect(text.endsWith('\n')).toBe(true)
    expect(text).not.toContain('\u0000')
    for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
    expect((await store.tasks.get('t3'))?.status).toBe('queued')
    expect((await seen(await reopen(store, dir))).tasks.map(([id]) => id)).toEqual(['t3', 't1'])
  })

  it('a failed fsync makes the store unavailable until a probe writes and fsyncs again', async () => {
    const { store } = await arranged()
    const sync = vi.spyOn(segmentIo, 'datasync')
    sync.mockRejectedValue(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))
    await store.ledger.grant('alice', 1, 'top-up', 'admin')
    // the periodic fsync finds the error
    await eventually(() => !store.availability().writable, 5000)
    expect(store.availability()).toMatchObject({ writable: false, reason: 'EIO' })
    sync.mockRestore()
    // the probe (once a second while unavailable) finds the disk well again, with no write asking
    await eventually(() => store.availability().writable, 5000)
  })
})
