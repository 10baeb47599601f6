import { mkdir } from 'node:fs/promises'
import type { Store } from '../types.js'
import { acquireDataDirLock } from './data-dir-lock.js'
import { LowdbLogRepository } from './log-repository.js'

/**
 * The embedded store: files under the data dir, owned by one process.
 * Writes are group-committed and appended; nothing rewrites its whole history.
 */
export function createLowdbStore(dataDir: string): Store {
  const logs = new LowdbLogRepository(dataDir)
  let unlock: (() => void) | undefined
  return {
    kind: 'lowdb',
    logs,
    async open() {
      await mkdir(dataDir, { recursive: true })
      unlock = acquireDataDirLock(dataDir)
      try {
        await logs.open()
      } catch (err) {
        unlock()
        throw err
      }
    },
    async close() {
      await logs.close()
      unlock?.()
      unlock = undefined
    },
  }
}
