import { newDelivery } from '../callbacks/new-delivery.js'
import type { CallbackDelivery } from '../model/callback.js'
import type { AbilityTask } from '../model/task.js'

/** The callback delivery of a task that ended. */
export function callbackFor(task: AbilityTask): CallbackDelivery {
  return newDelivery({
    url: task.payload.callbackUrl!,
    headers: task.payload.callbackHeaders,
    userId: task.userId,
    taskId: task.id,
    status: task.status,
    result: task.status === 'succeeded' ? (task.resultPayload ?? null) : null,
    error: task.errorCode ? { code: task.errorCode, message: task.errorMessage ?? '' } : null,
    logId: task.logId ?? null,
    at: task.finishedAt,
  })
}
