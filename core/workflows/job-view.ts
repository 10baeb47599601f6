import type { StepState, WorkflowJob } from '../model/job.js'
import type { AbilityTask } from '../model/task.js'
import { outputOf, taskIdsOf, upgradeJob } from './step-output.js'

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())

/**
 * A job as clients see it (README, HTTP API): status, progress, each step and each step task.
 * `tasks` are the job's step tasks: the steps' outputs are read from them.
 */
export function viewJob(stored: WorkflowJob, tasks: AbilityTask[] = []) {
  const job = upgradeJob(stored)
  const byId = new Map(tasks.map((t) => [t.id, t]))
  const taskIds = Object.fromEntries(
    job.plan.steps.map((s) => [s.id, taskIdsOf(job.id, s.id, job.steps[s.id])]),
  )
  return {
    id: job.id,
    workflowId: job.workflowId,
    userId: job.userId,
    projectId: job.projectId ?? null,
    params: job.params,
    status: job.status,
    progress: job.progress,
    output: job.output ?? null,
    error: job.error ?? null,
    consumed: job.consumed,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    consumedAt: iso(job.consumedAt),
    steps: job.plan.steps.map((s) => ({
      id: s.id,
      ability: s.ability,
      status: job.steps[s.id].status,
      output: outputOf(s, job.steps[s.id], taskIds[s.id], byId) ?? null,
      error: job.steps[s.id].error ?? null,
    })),
    tasks: job.plan.steps.flatMap((s) =>
      taskIds[s.id].map((taskId, item) => {
        const task = byId.get(taskId)
        if (!task) return unstored(job.steps[s.id], s.id, item, taskId)
        return {
          stepId: s.id,
          item,
          taskId,
          status: task.status,
          progress: task.progress,
          result: task.resultPayload ?? null,
          error: task.errorCode ? { code: task.errorCode, message: task.errorMessage ?? '' } : null,
        }
      }),
    ),
  }
}

/**
 * A step task that was never stored: refused when its step started (402, say), so the
 * step ended with that error; otherwise it is being stored right now.
 */
function unstored(state: StepState, stepId: string, item: number, taskId: string) {
  const refused = state.status === 'failed' || state.status === 'canceled'
  return {
    stepId,
    item,
    taskId,
    status: refused ? state.status : ('queued' as const),
    progress: 0,
    result: null,
    error: refused ? (state.error ?? null) : null,
  }
}
