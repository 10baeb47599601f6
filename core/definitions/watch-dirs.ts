/**
 * Change notifications for definition folders: `fs.watch` for speed plus a
 * timer for certainty, since recursive watching on Linux can miss events
 * (new subfolders, editors that rename over files) and fails on missing folders.
 */
import { type FSWatcher, watch } from 'node:fs'
import path from 'node:path'

export interface WatchDirsOptions {
  /** A watcher saw something; `file` is absolute when the platform names it. */
  onEvent(file?: string): void
  /** Every `intervalMs`: time to compare the folders with what was loaded. */
  onTick(): void
  intervalMs?: number
}

export interface DirWatcher {
  close(): void
}

export function watchDirs(dirs: readonly string[], opts: WatchDirsOptions): DirWatcher {
  const { onEvent, onTick, intervalMs = 1000 } = opts
  const watchers = new Map<string, FSWatcher>()
  const absDirs = [...new Set(dirs.map((d) => path.resolve(d)))]

  const ensureWatched = () => {
    for (const dir of absDirs) {
      if (watchers.has(dir)) continue
      try {
        const watcher = watch(dir, { recursive: true, persistent: false }, (_event, name) => {
          onEvent(name ? path.join(dir, name.toString()) : undefined)
        })
        // a deleted folder errors its watcher; drop it so the next tick watches the folder anew
        watcher.on('error', () => {
          watcher.close()
          watchers.delete(dir)
          onEvent()
        })
        watchers.set(dir, watcher)
      } catch {
        // missing for now; the timer keeps trying
      }
    }
  }

  ensureWatched()
  const timer = setInterval(() => {
    ensureWatched()
    onTick()
  }, intervalMs)
  timer.unref()

  return {
    close() {
      clearInterval(timer)
      for (const watcher of watchers.values()) watcher.close()
      watchers.clear()
    },
  }
}
