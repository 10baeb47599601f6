import { randomUUID } from 'node:crypto'
import { readlinkSync } from 'node:fs'
import { link, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { GantryError } from '../../errors.js'

/** What the lock file says about its holder. */
interface LockOwner {
  /** Random per open: a pid repeats (pid 1 in every container), this does not. */
  owner: string
  host: string
  pid: number
  /** The pid namespace (Linux), so a pid is only judged dead inside the namespace it belongs to. */
  pidns?: string
  /** An older Gantry's lock: a bare pid, never refreshed. */
  legacy?: boolean
}

export interface DataDirLockOptions {
  /** How often the holder touches the lock file. */
  heartbeatMs?: number
  /** A lock untouched for this long is stale and taken over. */
  staleMs?: number
  /** How long a starter waits for a fresh lock to be released or go stale before refusing. */
  waitMs?: number
  /** Called once if the lock file stops naming this holder (another process took it over). */
  onLost?(err: GantryError): void
}

export interface DataDirLock {
  release(): Promise<void>
}

const POLL_MS = 100

/**
 * One process owns a lowdb data dir. The lock file names a random owner id,
 * its host and pid, and its mtime is a heartbeat the holder refreshes. A pid
 * alone cannot tell two containers apart (both are pid 1) nor an exiting
 * holder from a live one, so a fresh heartbeat is never taken over, whatever
 * the pid; a starter waits for it to be released or go stale, then refuses.
 */
export async function acquireDataDirLock(
  dataDir: string,
  opts: DataDirLockOptions = {},
): Promise<DataDirLock> {
  const heartbeatMs = opts.heartbeatMs ?? 2000
  const staleMs = opts.staleMs ?? heartbeatMs * 4
  const waitMs = opts.waitMs ?? 10_000
  const path = join(dataDir, 'gantry.lock')
  const me: LockOwner = { owner: randomUUID(), host: hostname(), pid: process.pid, pidns: pidNamespace() }
  const deadline = Date.now() + waitMs
  let seen: { holder?: LockOwner; ageMs: number } | undefined
  for (;;) {
    if (await create(path, me)) break
    seen = await inspect(path)
    if (seen && (isGone(seen.holder, me) || (!seen.holder?.legacy && seen.ageMs > staleMs))) {
      await takeAway(path, seen.holder)
      continue
    }
    if (Date.now() >= deadline) {
      const who = seen?.holder ? `process ${seen.holder.pid} on ${seen.holder.host}` : 'another process'
      throw new GantryError(
        'DATA_DIR_LOCKED',
        `data dir ${dataDir} is in use by ${who} (heartbeat ${Math.round((seen?.ageMs ?? 0) / 1000)} s ago; waited ${waitMs} ms); stop it or choose another GANTRY_DATA_DIR`,
        { details: { holder: seen?.holder } },
      )
    }
    await sleep(POLL_MS)
  }

  let lost = false
  const beat = async () => {
    const holder = parse(await readFile(path, 'utf8').catch(() => ''))
    if (holder?.owner === me.owner) {
      await utimes(path, new Date(), new Date()).catch(() => {})
    } else if (!lost) {
      lost = true
      clearInterval(timer)
      opts.onLost?.(
        new GantryError(
          'DATA_DIR_LOCK_LOST',
          `the lock of data dir ${dataDir} was taken over${holder ? ` by process ${holder.pid} on ${holder.host}` : ''}; this process stops writing to it`,
          // what is still asked of it is refused as unavailable, never half-written beside another writer
          { status: 503 },
        ),
      )
    }
  }
  const timer = setInterval(() => void beat(), heartbeatMs)
  timer.unref()
  return {
    async release() {
      clearInterval(timer)
      if (lost) return
      lost = true
      const holder = parse(await readFile(path, 'utf8').catch(() => ''))
      if (holder?.owner === me.owner) await unlink(path).catch(() => {})
    },
  }
}

/** Creates the lock whole (written aside, then linked: never seen empty); false if one exists. */
async function create(path: string, me: LockOwner): Promise<boolean> {
  const tmp = `${path}.${me.owner}.tmp`
  await writeFile(tmp, JSON.stringify(me), { mode: 0o600 })
  try {
    await link(tmp, path)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err
    // a file system without hard links (some network and desktop mounts): exclusive create, then write
    try {
      await writeFile(path, JSON.stringify(me), { flag: 'wx', mode: 0o600 })
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw err
    }
  } finally {
    await unlink(tmp).catch(() => {})
  }
}

async function inspect(path: string): Promise<{ holder?: LockOwner; ageMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { holder: parse(text), ageMs: Date.now() - info.mtimeMs }
  } catch {
    return undefined // released meanwhile: the next create takes it
  }
}

/**
 * Moves the stale lock aside, atomically, and deletes it only if it is the one
 * judged stale: two starters taking over at once must not delete the new lock
 * the faster one just made (the slower one puts it back).
 */
async function takeAway(path: string, judged: LockOwner | undefined): Promise<void> {
  const aside = `${path}.${randomUUID()}.stale`
  try {
    await rename(path, aside)
  } catch {
    return
  }
  const moved = parse(await readFile(aside, 'utf8').catch(() => ''))
  if (moved?.owner !== judged?.owner) await link(aside, path).catch(() => {})
  await unlink(aside).catch(() => {})
}

/**
 * A holder whose process is known dead: same host and pid namespace, another
 * pid, and no such process. Lets a restart after a crash in at once; anything
 * less certain (another host, another container, our own pid) waits for the heartbeat.
 */
function isGone(holder: LockOwner | undefined, me: LockOwner): boolean {
  // an older Gantry's lock has no heartbeat: only its pid tells (as it did before)
  if (holder?.legacy) return holder.pid === me.pid || !isAlive(holder.pid)
  if (!holder || holder.host !== me.host || holder.pid === me.pid) return false
  if (holder.pidns !== me.pidns) return false
  return !isAlive(holder.pid)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

function parse(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text)
    if (typeof value === 'number' && value > 0)
      return { owner: `pid:${value}`, host: '', pid: value, legacy: true }
    return typeof value?.owner === 'string' ? value : undefined
  } catch {
    return undefined // half-written by hand, say: judged by its heartbeat alone
  }
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return undefined
  }
}
