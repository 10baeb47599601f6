import { newWebhookId } from '../callbacks/sign.js'
import type { CallbackDelivery } from '../callbacks/types.js'
import type { AbilityTask } from './types.js'

/** The callback delivery of a task that ended: `{status, result, error, logId, taskId, timestamp}`. */
export function callbackFor(task: AbilityTask): CallbackDelivery {
  const result = task.resultPayload
  return {
    id: newWebhookId(),
    url: task.payload.callbackUrl!,
    headers: task.payload.callbackHeaders ?? {},
    body: {
      status: task.status,
      result: task.status === 'succeeded' ? (result ?? null) : null,
      error: task.errorCode ? { code: task.errorCode, message: task.errorMessage ?? '' } : null,
      logId: task.logId ?? null,
      taskId: task.id,
      timestamp: new Date(task.finishedAt ?? Date.now()).toISOString(),
    },
    userId: task.userId,
    taskId: task.id,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: Date.now(),
    createdAt: Date.now(),
  }
}
