/** What a delivery becomes after one try: the state machine of the outbox. */

import type { CallbackDelivery, DeliveryPolicy } from '../model/callback.js'
import { backoffDelay } from '../run/backoff.js'
import type { AttemptResult } from './deliver.js'

/**
 * delivered on 2xx; stopped on 410; failed once maxAttempts tries are used;
 * otherwise pending again after the backoff, or the receiver's Retry-After if
 * that is longer.
 */
export function settleAttempt(
  delivery: CallbackDelivery,
  result: AttemptResult,
  at: number,
  policy: DeliveryPolicy,
): CallbackDelivery {
  const attempts = delivery.attempts + 1
  const tried = { ...delivery, attempts, lastStatus: result.status, lastError: result.error }
  if (result.ok) return { ...tried, status: 'delivered', deliveredAt: at, lastError: undefined }
  if (result.stop) return { ...tried, status: 'stopped' }
  if (attempts >= policy.maxAttempts) return { ...tried, status: 'failed' }
  const wait = Math.max(
    backoffDelay(policy.baseDelayMs, attempts, policy.maxDelayMs),
    result.retryAfterMs ?? 0,
  )
  return { ...tried, status: 'pending', nextAttemptAt: at + wait }
}
