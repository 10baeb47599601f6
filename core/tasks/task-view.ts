import type { CallbackDelivery } from '../model/callback.js'
import type { AbilityTask } from '../model/task.js'

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** A task as clients see it (README, HTTP API): ISO times, no callback headers (they may carry secrets). */
export function viewTask(task: AbilityTask, delivery?: CallbackDelivery) {
  const { payload } = task
  return {
    id: task.id,
    abilityId: task.abilityId,
    executorId: task.executorId,
    userId: task.userId,
    status: task.status,
    priority: task.priority,
    progress: task.progress,
    stage: task.stage ?? null,
    eta: task.eta ?? null,
    attempts: task.attempts,
    logId: task.logId ?? null,
    inputs: payload.inputs ?? {},
    metadata: payload.metadata ?? null,
    externalId: task.externalId ?? null,
    resultPayload: task.resultPayload ?? null,
    errorCode: task.errorCode ?? null,
    errorMessage: task.errorMessage ?? null,
    createdAt: iso(task.createdAt),
    startedAt: iso(task.startedAt) ?? null,
    finishedAt: iso(task.finishedAt) ?? null,
    callback: payload.callbackUrl
      ? {
          url: payload.callbackUrl,
          status: delivery?.status ?? (task.finishedAt ? 'pending' : 'waiting'),
          attempts: delivery?.attempts ?? 0,
          lastStatus: delivery?.lastStatus ?? null,
          lastError: delivery?.lastError ?? null,
        }
      : null,
  }
}

export type TaskView = ReturnType<typeof viewTask>
