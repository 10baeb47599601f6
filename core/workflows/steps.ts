/** Running a job's steps: each step (each `forEach` item) becomes a task; a step settles when all its tasks ended. */
import { createHash } from 'node:crypto'
import { coerceError, GantryError } from '../errors.js'
import type { Store } from '../store/types.js'
import type { TaskRunner } from '../tasks/task-runner.js'
import { type AbilityTask, ENDED } from '../tasks/types.js'
import { parseOutput, scopeOf } from './job-state.js'
import { isTruthy, render } from './template.js'
import type { JobPlan, StepState, WorkflowJob } from './types.js'

type PlannedStep = JobPlan['steps'][number]

/**
 * A step task's id follows from its job, step, item and retry round, so starting
 * a step again after a crash finds the tasks it already created instead of
 * creating them twice (UUID-shaped, like every task id).
 */
export function stepTaskId(jobId: string, stepId: string, item: number, round: number): string {
  const h = createHash('sha256').update(`${jobId}\u0000${stepId}\u0000${item}\u0000${round}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export interface StepDeps {
  store: Store
  tasks: TaskRunner
  /** Tasks that just ended, as their event carried them: settling need not read them back. */
  justEnded: Map<string, AbilityTask>
}

export async function startStep(deps: StepDeps, job: WorkflowJob, step: PlannedStep, state: StepState) {
  const accepted: AbilityTask[] = []
  try {
    if (step.if !== undefined && !isTruthy(render(step.if, scopeOf(job)))) {
      state.status = 'skipped'
      return
    }
    const items = step.forEach === undefined ? [undefined] : render(step.forEach, scopeOf(job))
    if (!Array.isArray(items))
      throw new GantryError('VALIDATION_FAILED', `forEach of step '${step.id}' is not a list`)
    if (items.length === 0) {
      state.status = 'succeeded'
      state.output = []
      return
    }
    // on a retry, items that already succeeded keep their task and result
    const kept = state.results.length === items.length ? state.results : []
    const prepared: (AbilityTask | undefined)[] = items.map((item, index) => {
      if (kept[index] !== null && kept[index] !== undefined) return undefined
      const scope = scopeOf(job, step.forEach === undefined ? {} : { item, index })
      const inputs = render(step.with, scope) as Record<string, unknown>
      const task = deps.tasks.prepare({
        caller: { id: job.userId, role: 'user' },
        abilityId: step.ability,
        payload: {
          inputs,
          metadata: {
            jobId: job.id,
            stepId: step.id,
            ...(step.forEach === undefined ? {} : { item: index }),
          },
        },
        priority: 0,
        job: { jobId: job.id, stepId: step.id, item: index },
        ...(step.retry || step.timeoutMs
          ? { overrides: { retry: step.retry, timeoutMs: step.timeoutMs } }
          : {}),
      }).task
      task.id = stepTaskId(job.id, step.id, index, state.round ?? 0)
      return task
    })
    state.status = 'running'
    state.taskIds = prepared.map((t, i) => t?.id ?? state.taskIds[i])
    state.results = prepared.map((t, i) => (t ? null : kept[i]))
    state.errors = prepared.map(() => null)
    for (const task of prepared) {
      if (!task) continue
      // stored before a crash that lost the job's own write: the job now knows it, nothing runs twice
      if (await deps.store.tasks.get(task.id)) continue
      try {
        await deps.tasks.accept(task)
        accepted.push(task)
      } catch (err) {
        // one item refused (402, say): the items already accepted are canceled, their holds released
        for (const t of accepted) await deps.tasks.cancel(t).catch(() => {})
        throw err
      }
    }
  } catch (err) {
    const e = coerceError(err)
    state.status = 'failed'
    state.error = { code: e.code, message: e.message }
  }
}

export async function settleStep(deps: StepDeps, step: PlannedStep, state: StepState) {
  let open = 0
  for (const [i, taskId] of state.taskIds.entries()) {
    if (state.results[i] !== null && state.results[i] !== undefined) continue
    const task = deps.justEnded.get(taskId) ?? (await deps.store.tasks.get(taskId))
    deps.justEnded.delete(taskId)
    if (!task) {
      // accepted by the job but never stored (a crash in between, or a refusal such as 402)
      state.errors[i] ??= { code: 'WORKER_CRASHED', message: 'the step task was never stored' }
      continue
    }
    if (!ENDED.has(task.status)) {
      open++
      continue
    }
    if (task.status === 'succeeded') {
      const parsed = parseOutput(step, task)
      if (parsed.ok) state.results[i] = parsed.value
      else state.errors[i] = { code: 'VALIDATION_FAILED', message: parsed.message }
    } else {
      state.errors[i] = {
        code: task.errorCode ?? 'PROVIDER_ERROR',
        message: task.errorMessage ?? task.status,
      }
    }
  }
  if (open > 0) return
  const firstError = state.errors.find((e) => e !== null)
  state.output = step.forEach === undefined ? state.results[0] : state.results
  if (firstError) {
    const canceled = state.taskIds.length > 0 && firstError.code === 'CANCELED'
    state.status = canceled ? 'canceled' : 'failed'
    state.error = firstError
  } else {
    state.status = 'succeeded'
  }
}

/** Cancels every running step's tasks (their holds are released) and marks pending steps canceled. */
export async function stopSteps(deps: StepDeps, job: WorkflowJob) {
  for (const state of Object.values(job.steps)) {
    if (state.status === 'pending') state.status = 'canceled'
    if (state.status !== 'running') continue
    for (const taskId of state.taskIds) {
      const task = await deps.store.tasks.get(taskId)
      if (task && !ENDED.has(task.status)) await deps.tasks.cancel(task).catch(() => {})
    }
    state.status = 'canceled'
  }
}
