import { type ChildProcess, spawn } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { GantryError } from '../../core/errors.js'
import { createLowdbStore } from '../../core/store/lowdb/index.js'
import { eventually, makeTempDir } from '../helpers.js'

const pidns = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return undefined
  }
})()

/** A lock file as another holder would leave it, its heartbeat `ageMs` old. */
async function writeLock(dir: string, holder: object, ageMs = 0) {
  const path = join(dir, 'gantry.lock')
  await writeFile(path, JSON.stringify(holder))
  const at = new Date(Date.now() - ageMs)
  await utimes(path, at, at)
}

const lockOwner = async (dir: string) => JSON.parse(await readFile(join(dir, 'gantry.lock'), 'utf8'))

describe('the data-dir lock', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  const tempDir = async () => {
    const dir = await makeTempDir()
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    return dir
  }
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  it('refuses a second store on the same data dir while the first keeps its heartbeat, after waiting', async () => {
    const dir = await tempDir()
    const first = createLowdbStore(dir, { lock: { heartbeatMs: 50 } })
    await first.open()
    cleanup.push(() => first.close())
    const started = Date.now()
    await expect(createLowdbStore(dir, { lock: { waitMs: 300 } }).open()).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      message: expect.stringContaining(`in use by process ${process.pid} on ${hostname()}`),
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    // the refused one left the holder's lock alone
    expect(await first.ledger.grant('u', 1, 'still the owner', 'admin')).toMatchObject({ points: 1 })
  })

  it('does not take a fresh lock that names its own pid under another owner id (another container, also pid 1)', async () => {
    const dir = await tempDir()
    await writeLock(dir, { owner: 'the-other-container', host: hostname(), pid: process.pid, pidns })
    await expect(createLowdbStore(dir, { lock: { waitMs: 300 } }).open()).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
    })
    expect((await lockOwner(dir)).owner).toBe('the-other-container')
  })

  it('does not take a fresh lock of another host whose pid means nothing here', async () => {
    const dir = await tempDir()
    const dead = await deadPid()
    await writeLock(dir, { owner: 'elsewhere', host: 'another-host', pid: dead })
    await expect(createLowdbStore(dir, { lock: { waitMs: 300 } }).open()).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
    })
    expect((await lockOwner(dir)).owner).toBe('elsewhere')
  })

  it('takes over a lock whose heartbeat is stale, whatever its pid says', async () => {
    const dir = await tempDir()
    await writeLock(dir, { owner: 'gone', host: 'another-host', pid: process.pid }, 60_000)
    const store = createLowdbStore(dir, { lock: { staleMs: 10_000, waitMs: 0 } })
    await store.open()
    expect((await lockOwner(dir)).owner).not.toBe('gone')
    await store.close()
    expect(await readdir(dir)).not.toContain('gantry.lock')
  })

  it('waits for a holder that is alive but no longer beating (exiting, a zombie) and takes over once stale', async () => {
    const dir = await tempDir()
    const holder = await sleeper()
    cleanup.push(() => holder.kill('SIGKILL'))
    await writeLock(dir, { owner: 'exiting', host: hostname(), pid: holder.pid, pidns })
    const store = createLowdbStore(dir, { lock: { staleMs: 500, waitMs: 30_000 } })
    await store.open()
    cleanup.push(() => store.close())
    expect((await lockOwner(dir)).pid).toBe(process.pid)
  })

  it('lets a starter in as soon as the holder releases within the wait', async () => {
    const dir = await tempDir()
    const first = createLowdbStore(dir, { lock: { heartbeatMs: 50 } })
    await first.open()
    let opened = false
    const second = createLowdbStore(dir, { lock: { waitMs: 30_000 } })
    const opening = second.open().then(() => (opened = true))
    await new Promise((r) => setTimeout(r, 300))
    expect(opened).toBe(false)
    await first.close()
    await opening
    cleanup.push(() => second.close())
    expect((await lockOwner(dir)).pid).toBe(process.pid)
  })

  it('a holder whose lock was taken over stops writing, loudly', async () => {
    const dir = await tempDir()
    const lost: GantryError[] = []
    const store = createLowdbStore(dir, { lock: { heartbeatMs: 50, onLost: (err) => lost.push(err) } })
    await store.open()
    cleanup.push(() => store.close())
    await writeLock(dir, { owner: 'usurper', host: 'another-host', pid: 1 })
    await eventually(() => lost.length === 1)
    expect(lost[0].code).toBe('DATA_DIR_LOCK_LOST')
    await expect(store.ledger.grant('u', 1, 'after the take-over', 'admin')).rejects.toMatchObject({
      code: 'DATA_DIR_LOCK_LOST',
    })
    // and it leaves the new holder's lock in place when it closes
    await store.close()
    expect((await lockOwner(dir)).owner).toBe('usurper')
  })

  it('takes over at once a lock left by a dead process of this host (kill -9), and an older bare-pid lock', async () => {
    const dir = await tempDir()
    const dead = await deadPid()
    await writeLock(dir, { owner: 'crashed', host: hostname(), pid: dead, pidns })
    const store = createLowdbStore(dir, { lock: { waitMs: 0 } })
    await store.open()
    await store.close()

    await writeFile(join(dir, 'gantry.lock'), String(dead))
    const again = createLowdbStore(dir, { lock: { waitMs: 0 } })
    await again.open()
    expect((await lockOwner(dir)).pid).toBe(process.pid)
    await again.close()
  })
})

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'])
  await new Promise((r) => child.on('exit', r))
  return child.pid!
}

async function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
  await new Promise((r) => child.on('spawn', r))
  return child
}
