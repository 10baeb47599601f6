import { chmod, mkdir, stat } from 'node:fs/promises'

/** Files Gantry writes under the data dir: they hold users' inputs, callback headers, secrets. */
export const PRIVATE_FILE = 0o600
export const PRIVATE_DIR = 0o700

/**
 * Makes the data dir readable by its owner only: created 0700, or, when it
 * exists and others may read it (made by an older Gantry, or by hand), tightened
 * to 0700. Says which, so the start can log it; `open` when it could not tighten it.
 */
export async function ensurePrivateDir(dir: string): Promise<'created' | 'tightened' | 'kept' | 'open'> {
  const info = await stat(dir).catch(() => undefined)
  if (!info) {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR })
    // mkdir's mode is filtered by the umask, which may leave it tighter, never looser
    return 'created'
  }
  if ((info.mode & 0o077) === 0) return 'kept'
  try {
    await chmod(dir, PRIVATE_DIR)
    return 'tightened'
  } catch {
    return 'open' // not ours to change (a mount point, another owner)
  }
}
