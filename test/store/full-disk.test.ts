/**
 * A full disk under the embedded store, through HTTP: priced tasks are
 * submitted until the disk fills. Every 202 survives a restart and ends
 * exactly once, every other answer is 503 STORE_UNAVAILABLE, no hold leaks,
 * `/readyz` says so while the disk is full and recovers once space is back,
 * and the ledger verifies. Run on a disk that fails on cue (a fault-injecting
 * write, everywhere) and on a real 2 MB tmpfs (where `mount` is permitted).
 */
import { execFileSync } from 'node:child_process'
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { segmentIo } from '../../core/store/lowdb/segment-io.js'
import { eventually, makeTempDir, startGantry, type TestGantry, waitForTask } from '../helpers.js'

const DEFS = `
kind: Executor
id: m
provider: mock
maxConcurrency: 4
---
kind: Ability
id: render
name: Render
executor: m
pricing: { base: 10 }
`
const files = { 'defs.yaml': DEFS }

interface Disk {
  /** Leaves about `bytes` free. */
  fill(bytes: number): Promise<void>
  /** Gives the space back. */
  free(): Promise<void>
}

/** A disk that takes `bytes` more and then refuses, with a short write at the edge (as ENOSPC does). */
function faultInjectedDisk(): Disk {
  const realWrite = segmentIo.write
  let room = Number.POSITIVE_INFINITY
  vi.spyOn(segmentIo, 'write').mockImplementation((fd, data, offset, length) => {
    if (room <= 0)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const n = Math.min(length, room)
    room -= n
    return realWrite(fd, data, offset, n)
  })
  return {
    async fill(bytes) {
      room = bytes
    },
    async free() {
      room = Number.POSITIVE_INFINITY
    },
  }
}

/** The data dir on a real tmpfs, filled with a ballast file. */
function tmpfsDisk(dataDir: string): Disk {
  const ballast = join(dataDir, 'ballast')
  return {
    async fill(bytes) {
      const { bavail, bsize } = await statfs(dataDir)
      await writeFile(ballast, Buffer.alloc(Math.max(0, bavail * bsize - bytes)))
    },
    async free() {
      await rm(ballast, { force: true })
    },
  }
}

/** Submits priced tasks four at a time, each with its own Idempotency-Key, until the disk refuses some. */
async function submitUntilFull(g: TestGantry, token: string) {
  const answers: { key: string; status: number; body: any }[] = []
  for (let wave = 0; wave < 50 && !answers.some((a) => a.status === 503); wave++) {
    answers.push(
      ...(await Promise.all(
        Array.from({ length: 4 }, async (_, i) => {
          const key = `k-${wave}-${i}`
          return { key, ...(await submit(g, token, key)) }
        }),
      )),
    )
  }
  return answers
}

const submit = (g: TestGantry, token: string, key: string) =>
  g.api('/api/ability-tasks', {
    body: { abilityId: 'render', inputs: { delayMs: 20 } },
    token,
    headers: { 'idempotency-key': key },
  })

async function fullDiskStory(g: TestGantry, disk: Disk) {
  const token = g.token('alice')
  const granted = await g.api('/api/admin/wallets/alice/grant', {
    body: { points: 10_000, reason: 'top-up' },
  })
  expect(granted.status).toBe(201)
  expect(await g.api('/readyz', { token: null })).toMatchObject({ status: 200, body: { status: 'ready' } })

  await disk.fill(12 * 1024)
  const answers = await submitUntilFull(g, token)
  const accepted = new Set(answers.filter((a) => a.status === 202).map((a) => a.body.id as string))
  expect(accepted.size).toBeGreaterThan(0)
  for (const a of answers.filter((a) => a.status !== 202)) {
    expect(a).toMatchObject({ status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } } })
  }
  const unready = await g.api('/readyz', { token: null })
  expect(unready).toMatchObject({ status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } } })
  // a hold for every accepted task at most, none for a refused one
  const wallet = (await g.api('/api/wallet', { token })).body
  expect(wallet.frozen).toBeLessThanOrEqual(10 * accepted.size)
  expect(wallet.available).toBe(wallet.balance - wallet.frozen)
  for (const hold of await g.gantry.store.ledger.openHolds()) expect(accepted.has(hold.taskId!)).toBe(true)

  // the sweep finds no hold to release: a refused task's hold was never taken
  expect((await g.gantry.sweeper.reconcileHolds()).holdsReleased).toBe(0)

  await disk.free()
  // no request needed: the store probes the disk and is writable again
  await eventually(async () => (await g.api('/readyz', { token: null })).status === 200, 10_000)
  // a refused request kept nothing, its Idempotency-Key included: sent again, it is accepted
  const refused = answers.find((a) => a.status === 503)!
  const after = await submit(g, token, refused.key)
  expect(after.status).toBe(202)
  accepted.add(after.body.id)
  return accepted
}

/** After a restart: every accepted task is there and ends, holds are all settled, the ledger verifies. */
async function survivesRestart(g: TestGantry, accepted: Set<string>) {
  const token = g.token('alice')
  for (const id of accepted) expect((await waitForTask(g, id, undefined, 20_000, token)).id).toBe(id)
  const listed = (await g.api('/api/ability-tasks?limit=100', { token })).body.items.map(
    (t: { id: string }) => t.id,
  )
  expect(new Set(listed)).toEqual(accepted)
  await eventually(async () => (await g.api('/api/wallet', { token })).body.frozen === 0, 10_000)
  const ledger = (await g.api('/api/wallet/ledger?limit=100', { token })).body.items as {
    kind: string
    taskId?: string
  }[]
  // one hold per accepted task, written once; never a release for a hold that was not written
  expect(
    ledger
      .filter((e) => e.kind === 'hold')
      .map((e) => e.taskId)
      .sort(),
  ).toEqual([...accepted].sort())
  for (const e of ledger.filter((e) => e.kind === 'release' || e.kind === 'commit'))
    expect(accepted.has(e.taskId!)).toBe(true)
  expect(await g.gantry.store.ledger.openHolds()).toEqual([])
  expect(await g.gantry.store.ledger.verify()).toEqual([])
}

describe('the embedded store on a full disk', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    vi.restoreAllMocks()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('a disk that fails on cue: every 202 survives, the rest are 503, no hold leaks, the ledger verifies', async () => {
    const root = await makeTempDir()
    cleanups.push(() => rm(root, { recursive: true, force: true }))
    const g = await startGantry({ root, files })
    cleanups.push(() => g.stop({ keep: true }))
    const disk = faultInjectedDisk()
    const accepted = await fullDiskStory(g, disk)
    await g.stop({ keep: true })
    const stopping = await g.gantry.app.request('/readyz')
    expect(stopping.status).toBe(503)
    expect(await stopping.json()).toMatchObject({ error: { code: 'SHUTTING_DOWN' } })
    vi.restoreAllMocks()
    const again = await startGantry({ root, files })
    cleanups.push(() => again.stop())
    await survivesRestart(again, accepted)
  }, 60_000)

  it('a task whose end the disk refused runs again once the disk takes writes, with no restart, and is charged once', async () => {
    const root = await makeTempDir()
    cleanups.push(() => rm(root, { recursive: true, force: true }))
    const g = await startGantry({ root, files })
    cleanups.push(() => g.stop())
    const token = g.token('alice')
    await g.api('/api/admin/wallets/alice/grant', { body: { points: 100, reason: 'top-up' } })
    const disk = faultInjectedDisk()
    const task = (
      await g.api('/api/ability-tasks', { body: { abilityId: 'render', inputs: { delayMs: 300 } }, token })
    ).body
    await eventually(async () => (await g.gantry.store.tasks.get(task.id))?.status === 'running')
    await disk.fill(0)
    // the call ends, but neither its end nor its log can be written
    await eventually(async () => (await g.api('/readyz', { token: null })).status === 503)
    expect((await g.gantry.store.tasks.get(task.id))?.status).toBe('running')
    await disk.free()
    const ended = await waitForTask(g, task.id, undefined, undefined, token)
    expect(ended).toMatchObject({ status: 'succeeded', attempts: 1 })
    const wallet = (await g.api('/api/wallet', { token })).body
    expect(wallet).toMatchObject({ balance: 90, frozen: 0, available: 90 })
    expect(await g.gantry.store.ledger.verify()).toEqual([])
  }, 60_000)

  it('a real 2 MB tmpfs filled up: the same', async (ctx) => {
    const root = await makeTempDir()
    cleanups.push(() => rm(root, { recursive: true, force: true }))
    const dataDir = join(root, 'data')
    await mkdir(dataDir)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dataDir], { stdio: 'ignore' })
    } catch {
      ctx.skip(
        'mount -t tmpfs is not permitted here (needs root outside a sandbox); the fault-injected disk covers this',
      )
      return
    }
    cleanups.push(async () => {
      execFileSync('umount', [dataDir], { stdio: 'ignore' })
    })
    const g = await startGantry({ root, files })
    cleanups.push(() => g.stop({ keep: true }))
    const accepted = await fullDiskStory(g, tmpfsDisk(dataDir))
    await g.stop({ keep: true })
    const again = await startGantry({ root, files })
    cleanups.push(() => again.stop({ keep: true }))
    await survivesRestart(again, accepted)
  }, 60_000)
})
