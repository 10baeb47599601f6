import { noteCharged } from '../../ledger/rules.js'
import type { CallbackDelivery } from '../../model/callback.js'
import type { IdempotencyRecord } from '../../model/idempotency.js'
import type {
  Page,
  TaskExpectation,
  TaskInsertExtras,
  TaskRepository,
  TaskSaveExtras,
} from '../../model/store.js'
import { type AbilityTask, ENDED, type TaskQuery } from '../../model/task.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { Journal } from './journal.js'
import type { JournaledCollection } from './journaled-collection.js'
import type { LowdbLedgerRepository } from './ledger-repository.js'

/** What listing needs of every task, ended ones included; about 100 bytes a task. */
interface TaskIndexEntry {
  seq: number
  userId: string
  abilityId: string
  status: AbilityTask['status']
  finishedAt?: number
  /** A workflow step's task: kept while its job is, since the job reads its result from it. */
  jobId?: string
}

/**
 * Tasks in the journal. Queued and running tasks stay in memory whole;
 * ended ones keep only an index entry and are read back when asked for.
 */
export class LowdbTaskRepository implements TaskRepository {
  private readonly index = new Map<string, TaskIndexEntry>()
  /** Task ids in creation order, with holes where tasks were removed. */
  private order: string[] = []
  private maxSeq = 0

  constructor(
    private readonly journal: Journal,
    private readonly tasks: JournaledCollection<AbilityTask>,
    private readonly idempotency: JournaledCollection<IdempotencyRecord>,
    private readonly outbox: JournaledCollection<CallbackDelivery>,
    private readonly ledger: LowdbLedgerRepository,
    private readonly jobExists: (jobId: string) => boolean = () => false,
  ) {}

  /** While the journal is replayed: the latest version of each task wins. */
  noteReplayed(task: AbilityTask): void {
    this.index.set(task.id, indexOf(task))
  }

  /** Once the journal is replayed: creation order, for pages. */
  orderReplayed(): void {
    this.order = [...this.index.keys()].sort((a, b) => this.index.get(a)!.seq - this.index.get(b)!.seq)
    for (const entry of this.index.values()) this.maxSeq = Math.max(this.maxSeq, entry.seq)
  }

  async insert(task: AbilityTask, extras: TaskInsertExtras = {}): Promise<void> {
    const { idempotency, holdPoints = 0 } = extras
    // the hold is checked and taken first: a wallet that cannot cover it stops the insert here
    const hold = this.ledger.stageHold(task.userId, holdKeyOf(task.id), holdPoints, task.id)
    task.seq = ++this.maxSeq
    const ops = [this.tasks.op(task)]
    if (idempotency) ops.push(this.idempotency.op(idempotency))
    if (hold) ops.push(...hold.entries.map((e) => this.ledger.op(e)))
    // visible at once, so a concurrent duplicate finds it; durable when the promise resolves
    this.index.set(task.id, indexOf(task))
    this.order.push(task.id)
    const ref = await this.journal.commit(ops, () => {
      // not written: the task was never accepted, and its hold never taken
      this.index.delete(task.id)
      const at = this.order.lastIndexOf(task.id)
      if (at >= 0) this.order.splice(at, 1)
      hold?.undo()
    })
    this.tasks.applied([task], ref)
    if (idempotency) this.idempotency.applied([idempotency], ref)
    if (hold) this.ledger.applied(hold.entries, ref)
  }

  async save(task: AbilityTask, expect?: TaskExpectation, extras: TaskSaveExtras = {}): Promise<boolean> {
    const { deliveries = [] } = extras
    const current = this.tasks.peek(task.id)
    const indexed = this.index.get(task.id)
    if (!indexed) return false
    if (expect && !current) return false
    if (expect?.attempts !== undefined && current!.attempts !== expect.attempts) return false
    if (expect?.status && !expect.status.includes(current!.status)) return false
    const settled =
      extras.charge === undefined ? undefined : this.ledger.stageSettle(holdKeyOf(task.id), extras.charge)
    noteCharged(task, settled?.entries ?? [])
    this.index.set(task.id, indexOf(task))
    const unstage = this.tasks.stage(task)
    const ref = await this.journal.commit(
      [
        this.tasks.op(task),
        ...deliveries.map((d) => this.outbox.op(d)),
        ...(settled?.entries ?? []).map((e) => this.ledger.op(e)),
      ],
      () => {
        // not written: the task stays as it was last written, its hold open
        settled?.undo()
        unstage()
        if (this.index.has(task.id)) this.index.set(task.id, indexed)
      },
    )
    this.tasks.applied([task], ref)
    this.outbox.applied(deliveries, ref)
    if (settled) this.ledger.applied(settled.entries, ref)
    return true
  }

  get(id: string): Promise<AbilityTask | undefined> {
    return this.tasks.get(id)
  }

  async list(query: TaskQuery): Promise<Page<AbilityTask>> {
    const before = decodeCursor<number>(query.cursor) ?? Number.POSITIVE_INFINITY
    const ids: string[] = []
    let lastSeq = 0
    for (let i = this.order.length - 1; i >= 0 && ids.length <= query.limit; i--) {
      const id = this.order[i]
      const entry = this.index.get(id)
      if (!entry || entry.seq >= before) continue
      if (query.userId && entry.userId !== query.userId) continue
      if (query.status && entry.status !== query.status) continue
      if (query.abilityId && entry.abilityId !== query.abilityId) continue
      ids.push(id)
      if (ids.length <= query.limit) lastSeq = entry.seq
    }
    const more = ids.length > query.limit
    const items = (await Promise.all(ids.slice(0, query.limit).map((id) => this.tasks.get(id)))).filter(
      (t): t is AbilityTask => !!t,
    )
    return more ? { items, nextCursor: encodeCursor(lastSeq) } : { items }
  }

  async unfinished(): Promise<AbilityTask[]> {
    const found: AbilityTask[] = []
    for (const entry of this.tasks.entries.values()) {
      if (entry.value && !ENDED.has(entry.value.status)) found.push(entry.value)
    }
    return found.sort((a, b) => a.seq - b.seq)
  }

  async removeEndedBefore(before: number): Promise<number> {
    let removed = 0
    for (const [id, entry] of this.index) {
      if (entry.jobId && this.jobExists(entry.jobId)) continue
      if (ENDED.has(entry.status) && (entry.finishedAt ?? 0) < before) {
        this.index.delete(id)
        this.tasks.delete(id)
        removed++
      }
    }
    if (removed) this.order = this.order.filter((id) => this.index.has(id))
    return removed
  }
}

/** The ledger key of a task's hold. */
export const holdKeyOf = (taskId: string) => `task:${taskId}`

function indexOf(task: AbilityTask): TaskIndexEntry {
  return {
    seq: task.seq,
    userId: task.userId,
    abilityId: task.abilityId,
    status: task.status,
    finishedAt: task.finishedAt,
    ...(task.job ? { jobId: task.job.jobId } : {}),
  }
}
