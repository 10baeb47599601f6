import { createHash } from 'node:crypto'
import { appendFile, chmod, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Low } from 'lowdb'
import { JSONFile } from 'lowdb/node'
import { GantryError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { CallbackDelivery } from '../../model/callback.js'
import type { IdempotencyRecord } from '../../model/idempotency.js'
import type { WorkflowJob } from '../../model/job.js'
import type { LedgerEntry } from '../../model/ledger.js'
import type { Store, StoreAvailability, StoreDamage } from '../../model/store.js'
import { type AbilityTask, ENDED } from '../../model/task.js'
import { unusableBecause } from '../record-check.js'
import { acquireDataDirLock, type DataDirLock, type DataDirLockOptions } from './data-dir-lock.js'
import { LowdbIdempotencyRepository } from './idempotency-repository.js'
import { LowdbJobRepository } from './job-repository.js'
import { Journal } from './journal.js'
import { JournaledCollection } from './journaled-collection.js'
import { LowdbLedgerRepository } from './ledger-repository.js'
import { LowdbLogRepository } from './log-repository.js'
import { LowdbOutboxRepository } from './outbox-repository.js'
import { ensurePrivateDir, PRIVATE_FILE } from './private-dir.js'
import type { Availability, Durability } from './segment-log.js'
import { LowdbTaskRepository } from './task-repository.js'

const FORMAT = 1

/** The data dir's own description, a small lowdb document replaced atomically. */
interface StoreMeta {
  format: number
  createdAt: string
}

export interface LowdbStoreOptions {
  /** When a change to tasks, holds and jobs is answered: written (`interval`, fsynced each second) or fsynced. */
  durability?: Durability
  /** Where what a start skipped or set aside, a lost lock and a failing disk are said. */
  log?: Logger
  lock?: DataDirLockOptions
}

export interface LowdbStore extends Store {
  availability(): StoreAvailability
  /** Drops journal segments nothing current lives in, copying a few live records forward first. */
  compact(): Promise<{ dropped: number; copied: number }>
}

/**
 * The embedded store: files under the data dir, owned by one process.
 * Changes are appended and group-committed; nothing rewrites its whole history.
 */
export function createLowdbStore(dataDir: string, opts: LowdbStoreOptions = {}): LowdbStore {
  const say: Logger = opts.log ?? (() => {})
  // a disk that stops taking writes is said once when it starts and once when it ends
  const tell = (file: string) => (state: Availability, err?: unknown) => {
    if (state.writable) say('warn', `store: ${file} is writable again`)
    else say('error', `store: cannot write ${file}; answering 503 STORE_UNAVAILABLE until it can`, { err })
  }
  const logs = new LowdbLogRepository(dataDir, { onAvailability: tell('logs') })
  const journal = new Journal(dataDir, { durability: opts.durability, onAvailability: tell('journal') })
  const tasks = new JournaledCollection<AbilityTask>(
    'task',
    journal,
    (t) => t.id,
    (t) => !ENDED.has(t.status),
  )
  const idem = new JournaledCollection<IdempotencyRecord>('idem', journal, (r) => r.scope)
  const outbox = new JournaledCollection<CallbackDelivery>('cb', journal, (d) => d.id)
  const entries = new JournaledCollection<LedgerEntry>(
    'ledger',
    journal,
    (e) => e.id,
    () => false,
  )
  const jobs = new JournaledCollection<WorkflowJob>('job', journal, (j) => j.id)
  const collections = new Map<string, JournaledCollection<any>>(
    [tasks, idem, outbox, entries, jobs].map((c) => [c.name, c]),
  )
  const ledger = new LowdbLedgerRepository(journal, entries)
  const taskRepo = new LowdbTaskRepository(journal, tasks, idem, outbox, ledger, (id) => jobs.entries.has(id))
  const jobRepo = new LowdbJobRepository(journal, jobs, idem, outbox)
  let lock: DataDirLock | undefined
  let damage: StoreDamage = { unreadableLines: 0, quarantined: [] }

  async function checkFormat() {
    const meta = new Low<StoreMeta>(new JSONFile(join(dataDir, 'meta.json')), {
      format: FORMAT,
      createdAt: new Date().toISOString(),
    })
    await meta.read()
    if (meta.data.format > FORMAT) {
      throw new GantryError(
        'DATA_DIR_FORMAT',
        `data dir ${dataDir} was written by a newer Gantry (format ${meta.data.format}); this one reads format ${FORMAT}`,
      )
    }
    await meta.write()
    // lowdb writes a new file and renames it over: its mode is the default one
    await chmod(join(dataDir, 'meta.json'), PRIVATE_FILE)
  }

  /**
   * Keeps a record a start cannot use aside in `quarantine.jsonl` (once, however
   * many starts find it again), logs it, and counts it for /metrics.
   */
  const quarantine: { collection: string; key: string; reason: string; record: unknown }[] = []
  async function setAside() {
    const path = join(dataDir, 'quarantine.jsonl')
    const known = new Set(
      (await readFile(path, 'utf8').catch(() => '')).split('\n').map((line) => {
        try {
          return JSON.parse(line).hash as string
        } catch {
          return undefined
        }
      }),
    )
    let text = ''
    for (const q of quarantine) {
      say('error', 'journal record set aside: a start cannot use it', {
        collection: q.collection,
        key: q.key,
        reason: q.reason,
      })
      const hash = createHash('sha256').update(JSON.stringify(q.record)).digest('hex')
      if (!known.has(hash)) text += `${JSON.stringify({ hash, at: new Date().toISOString(), ...q })}\n`
    }
    // kept aside for a person to look at; a disk that refuses it must not stop the start as well
    if (text)
      await appendFile(path, text, { mode: PRIVATE_FILE }).catch((err) =>
        say('error', `could not write ${path}`, { err }),
      )
    damage = {
      unreadableLines: damage.unreadableLines,
      quarantined: quarantine.map(({ collection, key, reason }) => ({ collection, key, reason })),
    }
    quarantine.length = 0
  }

  return {
    kind: 'lowdb',
    logs,
    tasks: taskRepo,
    idempotency: new LowdbIdempotencyRepository(idem),
    outbox: new LowdbOutboxRepository(journal, outbox),
    ledger,
    jobs: jobRepo,
    availability() {
      for (const state of [journal.availability(), logs.availability()]) {
        if (!state.writable) return { writable: false, reason: state.reason }
      }
      return { writable: true }
    },
    damage: () => damage,
    async open() {
      const dir = await ensurePrivateDir(dataDir)
      if (dir === 'tightened') say('warn', `data dir ${dataDir} was readable by others; now 0700`)
      if (dir === 'open') say('warn', `data dir ${dataDir} is readable by others and could not be changed`)
      lock = await acquireDataDirLock(dataDir, {
        ...opts.lock,
        onLost(err) {
          // two writers would interleave journal lines: the one that lost the lock stops writing
          journal.stop(err)
          logs.stop(err)
          say('error', err.message, { code: err.code })
          opts.lock?.onLost?.(err)
        },
      })
      damage = { unreadableLines: 0, quarantined: [] }
      const unreadable = (file: string) => (ref: { segment: number; offset: number }, err: unknown) => {
        damage.unreadableLines++
        say('error', `unreadable line skipped in ${file}`, { ...ref, err })
      }
      try {
        await checkFormat()
        await logs.open(unreadable('logs'))
        await journal.open((op, ref) => {
          const reason =
            typeof op?.c === 'string' && typeof op.k === 'string'
              ? unusableBecause(op.c, op.v)
              : 'not a journal op (c, k, v)'
          if (reason) {
            // as if never written: an earlier version of the record, if any, stands
            quarantine.push({ collection: op?.c, key: op?.k, reason, record: op })
            return
          }
          collections.get(op.c)?.replay(op, ref)
          if (op.c === 'task') taskRepo.noteReplayed(op.v as AbilityTask)
          else if (op.c === 'ledger') ledger.noteReplayed(op.v as LedgerEntry)
          else if (op.c === 'job') jobRepo.noteReplayed(op.v as WorkflowJob)
        }, unreadable('journal'))
        taskRepo.orderReplayed()
        await setAside()
      } catch (err) {
        await lock.release()
        lock = undefined
        throw err
      }
    },
    async close() {
      await logs.close()
      await journal.close()
      await lock?.release()
      lock = undefined
    },
    async compact() {
      let dropped = 0
      let copied = 0
      for (const { segment, live } of journal.finishedSegments()) {
        if (live > 1000) continue
        if (live > 0) {
          // copy the few current records forward, so the segment can go
          const moving: { c: JournaledCollection<any>; value: unknown }[] = []
          for (const c of collections.values()) {
            for (const [key, entry] of c.entries) {
              if (entry.ref.segment === segment) moving.push({ c, value: await c.get(key) })
            }
          }
          const ref = await journal.commit(moving.map(({ c, value }) => c.op(value)))
          for (const { c, value } of moving) c.applied([value], ref)
          copied += moving.length
        }
        await journal.drop(segment)
        dropped++
      }
      return { dropped, copied }
    },
  }
}
