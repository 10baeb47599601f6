/**
 * Signed callbacks (webhooks) sent when a task ends: the delivery record, the
 * outbox it waits in, and the retry policy. Deliveries are signed per
 * Standard Webhooks (https://www.standardwebhooks.com/).
 */

/** One callback to send; the store keeps it until it is delivered, failed or stopped. */
export interface CallbackDelivery {
  /** The `webhook-id`, the same on every try, so receivers can drop duplicates. */
  id: string
  url: string
  /** The caller's callbackHeaders; they can never replace the signature headers or content-type. */
  headers: Record<string, string>
  /** `{status, result, error, logId, taskId, timestamp}` */
  body: Record<string, unknown>
  userId: string
  taskId?: string
  jobId?: string
  /** failed: gave up after maxAttempts; stopped: the receiver answered 410 Gone. */
  status: 'pending' | 'delivered' | 'failed' | 'stopped'
  attempts: number
  /** epoch ms */
  nextAttemptAt: number
  lastStatus?: number
  lastError?: string
  createdAt: number
  deliveredAt?: number
}

/**
 * Where deliveries wait; the store implements it (written in the same step as
 * the task's end, so they survive restarts). `createMemoryOutbox` is the
 * reference semantics.
 */
export interface CallbackOutbox {
  /** Pending deliveries with nextAttemptAt <= now, oldest (createdAt) first, at most `limit`. */
  due(now: number, limit: number): Promise<CallbackDelivery[]>
  /** Replaces the stored delivery with the same id. */
  update(delivery: CallbackDelivery): Promise<void>
}

export interface DeliveryPolicy {
  /** Tries before a delivery is marked failed. */
  maxAttempts: number
  /** Wait before the first retry; doubles on each later one (with jitter). */
  baseDelayMs: number
  maxDelayMs: number
  /** A try that has no answer within this is a failure. */
  timeoutMs: number
}

/** 30 s doubling over 6 tries, capped at 30 min, spreads the tries over about an hour. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 30_000,
  maxDelayMs: 30 * 60_000,
  timeoutMs: 10_000,
})

/** Resolves a host name to every address it has (like `dns.lookup` with `all: true`). */
export type LookupFn = (host: string) => Promise<{ address: string; family: number }[]>
