import type { CallbackDelivery } from '../../model/callback.js'
import type { OutboxRepository } from '../../model/store.js'
import type { Journal } from './journal.js'
import type { JournaledCollection } from './journaled-collection.js'

/** Callback deliveries waiting or done, all in memory; queued with the task's end (see the task repository). */
export class LowdbOutboxRepository implements OutboxRepository {
  constructor(
    private readonly journal: Journal,
    private readonly deliveries: JournaledCollection<CallbackDelivery>,
  ) {}

  async due(now: number, limit: number): Promise<CallbackDelivery[]> {
    const found: CallbackDelivery[] = []
    for (const entry of this.deliveries.entries.values()) {
      const d = entry.value
      if (d && d.status === 'pending' && d.nextAttemptAt <= now) found.push(d)
    }
    return found
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt)
      .slice(0, limit)
  }

  async update(delivery: CallbackDelivery): Promise<void> {
    const unstage = this.deliveries.stage(delivery)
    const ref = await this.journal.commit([this.deliveries.op(delivery)], unstage)
    this.deliveries.applied([delivery], ref)
  }

  async get(id: string): Promise<CallbackDelivery | undefined> {
    return this.deliveries.peek(id)
  }

  async removeSettledBefore(before: number): Promise<number> {
    let removed = 0
    for (const [id, entry] of this.deliveries.entries) {
      const d = entry.value
      if (d && d.status !== 'pending' && (d.deliveredAt ?? d.nextAttemptAt ?? d.createdAt) < before) {
        this.deliveries.delete(id)
        removed++
      }
    }
    return removed
  }
}
