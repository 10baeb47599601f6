/**
 * The Store: everything Gantry keeps. Callers see only this interface, so the
 * embedded store and a PostgreSQL store are interchangeable; every method is
 * async, every list is a cursor page, and every change a task's attempt makes
 * is conditional on that attempt (a fencing token).
 */
import type { CallbackDelivery, CallbackOutbox } from './callback.js'
import type { ClusterCoordination } from './cluster.js'
import type { IdempotencyRecord } from './idempotency.js'
import type { InvocationLog, LogQuery } from './invocation-log.js'
import type { JobQuery, WorkflowJob } from './job.js'
import type { LedgerEntry, Wallet } from './ledger.js'
import type { MediaStore } from './media-store.js'
import type { AbilityTask, TaskQuery, TaskStatus } from './task.js'

export interface Page<T> {
  items: T[]
  /** Absent on the last page. */
  nextCursor?: string
}

export interface LogRepository {
  /** Resolves once the log is written (group-committed with its neighbours). */
  append(log: InvocationLog): Promise<void>
  get(logId: string): Promise<InvocationLog | undefined>
  /** Newest first. */
  list(query: LogQuery): Promise<Page<InvocationLog>>
  /** Retention: drops logs written before `before` (epoch ms); returns how many. */
  removeBefore(before: number): Promise<number>
}

/** Only applies a change while the stored task still looks like this. */
export interface TaskExpectation {
  attempts?: number
  status?: readonly TaskStatus[]
}

/** What is written with a new task, in the same atomic step. */
export interface TaskInsertExtras {
  idempotency?: IdempotencyRecord
  /** Points to hold on the task's user's wallet (key `task:<id>`); INSUFFICIENT_CREDITS if it cannot cover them. */
  holdPoints?: number
}

/** What is written with a task's change, in the same atomic step. */
export interface TaskSaveExtras {
  deliveries?: CallbackDelivery[]
  /**
   * Closes the task's hold: this much charged, the rest released; beyond the hold
   * only as far as the wallet covers, and the task's `resultPayload.cost` then
   * says what was charged (the task passed in is changed to match).
   */
  charge?: number
}

export interface TaskRepository {
  /** Stores a new task with its extras in one atomic write. Resolves once durable. */
  insert(task: AbilityTask, extras?: TaskInsertExtras): Promise<void>
  /**
   * Replaces a task if the stored one meets `expect`, with its extras in the same
   * atomic write. Returns false (and changes nothing) when stale.
   */
  save(task: AbilityTask, expect?: TaskExpectation, extras?: TaskSaveExtras): Promise<boolean>
  get(id: string): Promise<AbilityTask | undefined>
  /** Newest first. */
  list(query: TaskQuery): Promise<Page<AbilityTask>>
  /** Every task queued or running: what a start resumes. */
  unfinished(): Promise<AbilityTask[]>
  /** Retention: drops ended tasks that finished before `before`; returns how many. */
  removeEndedBefore(before: number): Promise<number>
}

export interface IdempotencyRepository {
  get(scope: string): Promise<IdempotencyRecord | undefined>
  /** Retention: drops records created before `before`. */
  removeBefore(before: number): Promise<number>
}

export interface OutboxRepository extends CallbackOutbox {
  get(id: string): Promise<CallbackDelivery | undefined>
  /** Retention: drops delivered, failed and stopped deliveries last touched before `before`. */
  removeSettledBefore(before: number): Promise<number>
}

export interface OpenHold {
  holdKey: string
  userId: string
  points: number
  taskId?: string
}

export interface LedgerDifference {
  userId: string
  /** The first entry whose recorded wallet differs, if one does. */
  entryId?: string
  cached: Wallet
  recomputed: Wallet
}

export interface LedgerRepository {
  wallet(userId: string): Promise<Wallet>
  /** Newest first; all users' entries when `userId` is absent. */
  list(query: { userId?: string; limit: number; cursor?: string }): Promise<Page<LedgerEntry>>
  /** An admin's grant (or signed adjustment); BALANCE_LIMIT (409) when it would take the balance past MAX_BALANCE. */
  grant(
    userId: string,
    points: number,
    reason: string,
    actor: string,
    kind?: 'grant' | 'adjust',
  ): Promise<LedgerEntry>
  /** A hold on its own (a sync call); none for 0 points; INSUFFICIENT_CREDITS if the wallet cannot cover it. */
  hold(userId: string, holdKey: string, points: number): Promise<LedgerEntry | undefined>
  /** Closes a hold: `charge` committed, the rest released; beyond the hold only as far as the wallet covers. Nothing when it is already closed. */
  settle(holdKey: string, charge: number): Promise<LedgerEntry[]>
  openHolds(): Promise<OpenHold[]>
  /** Recomputes every wallet from its entries; where an entry's recorded wallet (or the cached one) differs. */
  verify(): Promise<LedgerDifference[]>
}

export interface JobRepository {
  /** Stores a new job (with its idempotency record) in one atomic write. */
  insert(job: WorkflowJob, idempotency?: IdempotencyRecord): Promise<void>
  /** Replaces a job, with callback deliveries to queue in the same write. */
  save(job: WorkflowJob, deliveries?: CallbackDelivery[]): Promise<void>
  get(id: string): Promise<WorkflowJob | undefined>
  /** Newest first. */
  list(query: JobQuery): Promise<Page<WorkflowJob>>
  unfinished(): Promise<WorkflowJob[]>
  /** A job of `userId` not yet ended whose singleton key is `key`: a key is one user's, never shared. */
  activeWithSingleton(userId: string, key: string): Promise<WorkflowJob | undefined>
  /** Retention: drops ended and consumed jobs that finished before `before`. */
  removeFinishedBefore(before: number): Promise<number>
}

/** Whether a store takes writes now; when it does not, why (the embedded store on a full or failing disk). */
export type StoreAvailability = { writable: true } | { writable: false; reason: string }

/** What the last open found it could not use, and went on without. */
export interface StoreDamage {
  /** Whole lines of the journal or logs that could not be read: skipped. */
  unreadableLines: number
  /** Records missing what a start needs: set aside (the embedded store: `quarantine.jsonl`). */
  quarantined: { collection: string; key: string; reason: string }[]
}

export interface Store {
  readonly kind: string
  /**
   * Opens the storage and loads what is needed. The embedded store has one owner
   * (a second process is refused); PostgreSQL is shared by design.
   */
  open(): Promise<void>
  /** What the last open skipped or set aside; reported on /metrics. */
  damage?(): StoreDamage
  /** Flushes pending writes and gives up ownership. */
  close(): Promise<void>
  readonly logs: LogRepository
  readonly tasks: TaskRepository
  readonly idempotency: IdempotencyRepository
  readonly outbox: OutboxRepository
  readonly ledger: LedgerRepository
  readonly jobs: JobRepository
  /** Present when several nodes may share this store (PostgreSQL): the queue, leases, signals. */
  readonly cluster?: ClusterCoordination
  /** Present when a store can stop taking writes while it runs (the embedded store's disk); `/readyz` reports it. */
  availability?(): StoreAvailability
  /** Where result media are kept when the store provides it (PostgreSQL: shared by every node); else files in the data dir. */
  readonly media?: MediaStore
}
