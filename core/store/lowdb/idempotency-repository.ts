import type { IdempotencyRecord } from '../../model/idempotency.js'
import type { IdempotencyRepository } from '../../model/store.js'
import type { JournaledCollection } from './journaled-collection.js'

/** Idempotency records, all in memory; written with the task they created (see the task repository). */
export class LowdbIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly records: JournaledCollection<IdempotencyRecord>) {}

  async get(scope: string): Promise<IdempotencyRecord | undefined> {
    return this.records.peek(scope)
  }

  async removeBefore(before: number): Promise<number> {
    let removed = 0
    for (const [scope, entry] of this.records.entries) {
      if ((entry.value?.createdAt ?? 0) < before) {
        this.records.delete(scope)
        removed++
      }
    }
    return removed
  }
}
