import type { CallbackDelivery } from '../model/callback.js'
import { newWebhookId } from './sign.js'

export interface DeliveryFor {
  url: string
  headers?: Record<string, string>
  userId: string
  taskId?: string
  jobId?: string
  status: string
  result: unknown
  error: unknown
  logId: string | null
  /** When what it reports ended; default now. */
  at?: number
}

/**
 * A callback delivery ready for the outbox: the body every callback carries,
 * `{status, result, error, logId, taskId, timestamp}` (plus `jobId` for a job),
 * due at once, with a webhook-id that every retry keeps.
 */
export function newDelivery(d: DeliveryFor): CallbackDelivery {
  const now = Date.now()
  return {
    id: newWebhookId(),
    url: d.url,
    headers: d.headers ?? {},
    body: {
      status: d.status,
      result: d.result,
      error: d.error,
      logId: d.logId,
      taskId: d.taskId ?? null,
      ...(d.jobId ? { jobId: d.jobId } : {}),
      timestamp: new Date(d.at ?? now).toISOString(),
    },
    userId: d.userId,
    ...(d.taskId ? { taskId: d.taskId } : {}),
    ...(d.jobId ? { jobId: d.jobId } : {}),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
  }
}
