/**
 * An in-memory CallbackOutbox: for tests, and the reference semantics the
 * store implementations follow.
 */
import type { CallbackDelivery, CallbackOutbox } from '../model/callback.js'

export interface MemoryOutbox extends CallbackOutbox {
  add(delivery: CallbackDelivery): void
  /** Every delivery in the order added, whatever its status. */
  all(): CallbackDelivery[]
  get(id: string): CallbackDelivery | undefined
}

/**
 * @example
 * const outbox = createMemoryOutbox()
 * outbox.add({ id: newWebhookId(), url, headers: {}, body, userId: 'alice', status: 'pending',
 *   attempts: 0, nextAttemptAt: Date.now(), createdAt: Date.now() })
 */
export function createMemoryOutbox(initial: CallbackDelivery[] = []): MemoryOutbox {
  const deliveries = new Map<string, CallbackDelivery>()
  // copies in and out, as a real store gives: nobody changes a stored delivery without update()
  const copy = (d: CallbackDelivery) => structuredClone(d)
  for (const d of initial) deliveries.set(d.id, copy(d))

  return {
    add(delivery) {
      deliveries.set(delivery.id, copy(delivery))
    },
    all: () => [...deliveries.values()].map(copy),
    get: (id) => {
      const d = deliveries.get(id)
      return d && copy(d)
    },
    async due(now, limit) {
      return [...deliveries.values()]
        .filter((d) => d.status === 'pending' && d.nextAttemptAt <= now)
        .sort((a, b) => a.createdAt - b.createdAt || a.nextAttemptAt - b.nextAttemptAt)
        .slice(0, limit)
        .map(copy)
    },
    async update(delivery) {
      deliveries.set(delivery.id, copy(delivery))
    },
  }
}
