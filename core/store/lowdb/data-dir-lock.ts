import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { GantryError } from '../../errors.js'

/**
 * One process owns a lowdb data dir. The lock file holds the owner's pid;
 * a lock whose pid is gone (a crash, kill -9) is stale and taken over.
 */
// locks this process holds: a lock file with our pid that is not in here was left by an
// earlier process that had the same pid (pid 1 in a container, say), so it is stale
const heldHere = new Set<string>()

export function acquireDataDirLock(dataDir: string): () => void {
  const path = join(dataDir, 'gantry.lock')
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      heldHere.add(path)
      return () => {
        heldHere.delete(path)
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path)
        } catch {}
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number(readText(path))
      const ours = owner === process.pid
      if (owner && ((ours && heldHere.has(path)) || (!ours && isAlive(owner)))) {
        throw new GantryError(
          'DATA_DIR_LOCKED',
          `data dir ${dataDir} is in use by process ${owner}; stop it or choose another GANTRY_DATA_DIR (on a running server, POST /api/admin/sweep sweeps)`,
        )
      }
      // stale: its owner died without cleaning up
      try {
        unlinkSync(path)
      } catch {}
    }
  }
  throw new GantryError('DATA_DIR_LOCKED', `could not lock data dir ${dataDir}`)
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return ''
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
