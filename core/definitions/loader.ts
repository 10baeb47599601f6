/**
 * The definitions loader: reads every YAML file under the configured
 * folders, serves the resulting set, and on `watch()` reloads within a
 * second or two of a file being added, changed or removed. A file that
 * breaks keeps its last good version in force and is listed in `errors`.
 *
 * @example
 * ```ts
 * const loader = createDefinitionLoader({ dirs: ['./abilities'], providers, onReload: (set) => swap(set) })
 * const set = await loader.load()
 * loader.watch()
 * ```
 */
import { displayPath, formatDefinitionError } from './definition-error.js'
import { DEFAULT_MAX_DEFINITION_BYTES, readCapped, tooLargeMessage } from './read-capped.js'
import { createDefinitionRegistry, type Rebuilt } from './registry.js'
import { listDefinitionFiles } from './scan.js'
import type { DefinitionSet, ProviderInfo } from './types.js'
import { type DirWatcher, watchDirs } from './watch-dirs.js'

export interface DefinitionLoaderOptions {
  dirs: string[]
  providers: ReadonlyMap<string, ProviderInfo>
  /** For `${env:NAME}`; default `process.env`. */
  env?: Record<string, string | undefined>
  /** A larger file is refused unread (its last good version stays); default 1 MiB. */
  maxFileBytes?: number
  /** Quiet time after a change before rescanning; default 100. */
  debounceMs?: number
  /** After every rebuild that changed something, except the first (which `load()` returns); files as in errors. */
  onReload?(set: DefinitionSet, changedFiles: string[]): void
  log?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
}

export interface DefinitionLoader {
  /** Reads the folders (only changed files, after the first time) and returns the set in force. */
  load(): Promise<DefinitionSet>
  /** The set in force; version 0 and empty before `load()`. */
  current(): DefinitionSet
  /** Starts watching and polling the folders. */
  watch(): void
  /** Stops watching; waits for a rescan under way. */
  close(): Promise<void>
}

export function createDefinitionLoader(opts: DefinitionLoaderOptions): DefinitionLoader {
  const {
    dirs,
    providers,
    env = process.env,
    maxFileBytes = DEFAULT_MAX_DEFINITION_BYTES,
    debounceMs = 100,
    onReload,
    log = () => {},
  } = opts
  const registry = createDefinitionRegistry({ providers, env })
  // signatures of the files as last read, to re-read only what changed
  let known = new Map<string, string>()
  let built = false
  let closed = false
  let hinted = new Set<string>()
  let chain: Promise<void> = Promise.resolve()
  let queued: Promise<void> | undefined
  let debounce: NodeJS.Timeout | undefined
  let watcher: DirWatcher | undefined

  async function readChanges(hints: ReadonlySet<string>): Promise<string[]> {
    const listing = await listDefinitionFiles(dirs)
    const next = new Map<string, string>()
    const changed: string[] = []
    for (const [file, signature] of listing) {
      if (known.get(file) === signature && !hints.has(file)) {
        next.set(file, signature)
        continue
      }
      let read: Awaited<ReturnType<typeof readCapped>>
      try {
        read = await readCapped(file, maxFileBytes)
      } catch {
        continue // removed between listing and reading; the next scan settles it
      }
      next.set(file, signature)
      const updated =
        'text' in read
          ? registry.update(file, read.text)
          : registry.refuse(file, tooLargeMessage(read.tooLarge, maxFileBytes))
      if (updated) changed.push(file)
    }
    for (const file of registry.files()) {
      if (!listing.has(file) && registry.remove(file)) changed.push(file)
    }
    known = next
    return changed.sort()
  }

  async function rescan(): Promise<void> {
    const hints = hinted
    hinted = new Set()
    const changed = await readChanges(hints)
    if (built && changed.length === 0) return
    const first = !built
    built = true
    report(
      registry.rebuild(),
      changed.map((f) => displayPath(f)),
      first,
    )
  }

  function report({ set, refused }: Rebuilt, changedFiles: string[], first: boolean) {
    for (const { file, errors } of refused) {
      log('warn', 'definitions file refused', { file, errors: errors.map(formatDefinitionError) })
    }
    log('info', first ? 'definitions loaded' : 'definitions reloaded', {
      version: set.version,
      executors: set.executors.size,
      abilities: set.abilities.size,
      workflows: set.workflows.size,
      errors: set.errors.length,
      changedFiles,
    })
    if (first || !onReload) return
    try {
      onReload(set, changedFiles)
    } catch (err) {
      log('error', 'definitions onReload listener failed', { error: (err as Error).message })
    }
  }

  /** Runs one rescan after any under way; calls made before it starts share it. */
  function rescanSoon(): Promise<void> {
    if (queued) return queued
    const run = chain.then(() => {
      queued = undefined
      return rescan()
    })
    queued = run
    chain = run.catch((err) => log('error', 'definitions rescan failed', { error: (err as Error).message }))
    return run
  }

  function schedule(file?: string) {
    if (closed) return
    if (file) hinted.add(file)
    clearTimeout(debounce)
    debounce = setTimeout(() => void rescanSoon().catch(() => {}), debounceMs)
    debounce.unref()
  }

  async function poll() {
    if (closed || queued) return
    const listing = await listDefinitionFiles(dirs)
    const differs =
      listing.size !== known.size || [...listing].some(([file, signature]) => known.get(file) !== signature)
    if (differs) schedule()
  }

  return {
    async load() {
      await rescanSoon()
      return registry.current()
    },
    current: () => registry.current(),
    watch() {
      if (watcher || closed) return
      watcher = watchDirs(dirs, {
        onEvent: schedule,
        onTick: () =>
          void poll().catch((err) => log('error', 'definitions poll failed', { error: String(err) })),
      })
    },
    async close() {
      closed = true
      clearTimeout(debounce)
      watcher?.close()
      watcher = undefined
      await chain
    },
  }
}
