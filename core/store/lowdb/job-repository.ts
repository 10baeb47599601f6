import type { CallbackDelivery } from '../../model/callback.js'
import type { IdempotencyRecord } from '../../model/idempotency.js'
import { JOB_ENDED, type JobQuery, type WorkflowJob } from '../../model/job.js'
import type { JobRepository, Page } from '../../model/store.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { Journal } from './journal.js'
import type { JournaledCollection } from './journaled-collection.js'

/** Workflow jobs in the journal, all in memory (jobs are few beside their tasks). */
export class LowdbJobRepository implements JobRepository {
  private maxSeq = 0

  constructor(
    private readonly journal: Journal,
    private readonly jobs: JournaledCollection<WorkflowJob>,
    private readonly idempotency: JournaledCollection<IdempotencyRecord>,
    private readonly outbox: JournaledCollection<CallbackDelivery>,
  ) {}

  noteReplayed(job: WorkflowJob): void {
    this.maxSeq = Math.max(this.maxSeq, job.seq)
  }

  async insert(job: WorkflowJob, idempotency?: IdempotencyRecord): Promise<void> {
    job.seq = ++this.maxSeq
    const ops = [this.jobs.op(job)]
    if (idempotency) ops.push(this.idempotency.op(idempotency))
    const ref = await this.journal.commit(ops)
    this.jobs.applied([job], ref)
    if (idempotency) this.idempotency.applied([idempotency], ref)
  }

  async save(job: WorkflowJob, deliveries: CallbackDelivery[] = []): Promise<void> {
    const unstage = this.jobs.stage(job)
    const ref = await this.journal.commit(
      [this.jobs.op(job), ...deliveries.map((d) => this.outbox.op(d))],
      unstage,
    )
    this.jobs.applied([job], ref)
    this.outbox.applied(deliveries, ref)
  }

  async get(id: string): Promise<WorkflowJob | undefined> {
    const job = this.jobs.peek(id)
    return job && structuredClone(job)
  }

  async list(query: JobQuery): Promise<Page<WorkflowJob>> {
    const before = decodeCursor<number>(query.cursor) ?? Number.POSITIVE_INFINITY
    const matching = this.all()
      .filter(
        (j) =>
          j.seq < before &&
          (!query.userId || j.userId === query.userId) &&
          (!query.projectId || j.projectId === query.projectId) &&
          (!query.active || !j.consumed),
      )
      .sort((a, b) => b.seq - a.seq)
    const items = matching.slice(0, query.limit).map((j) => structuredClone(j))
    return matching.length > query.limit
      ? { items, nextCursor: encodeCursor(items[items.length - 1].seq) }
      : { items }
  }

  async unfinished(): Promise<WorkflowJob[]> {
    return this.all()
      .filter((j) => !JOB_ENDED.has(j.status))
      .sort((a, b) => a.seq - b.seq)
      .map((j) => structuredClone(j))
  }

  async activeWithSingleton(userId: string, key: string): Promise<WorkflowJob | undefined> {
    const active = this.all().find(
      (j) => j.userId === userId && j.singletonKey === key && !JOB_ENDED.has(j.status),
    )
    return active && structuredClone(active)
  }

  async removeFinishedBefore(before: number): Promise<number> {
    let removed = 0
    for (const job of this.all()) {
      if (job.consumed && JOB_ENDED.has(job.status) && (job.finishedAt ?? 0) < before) {
        this.jobs.delete(job.id)
        removed++
      }
    }
    return removed
  }

  /**
   * The stored jobs themselves: callers get copies, so a job an advance is changing
   * is seen as it was last saved, never half-way (a view would pair it with older tasks).
   */
  private all(): WorkflowJob[] {
    const jobs: WorkflowJob[] = []
    for (const entry of this.jobs.entries.values()) if (entry.value) jobs.push(entry.value)
    return jobs
  }
}
