/** Running a job's steps: each step (each `forEach` item) becomes a task; a step settles when all its tasks ended. */
import { coerceError, GantryError } from '../errors.js'
import type { JobPlan, StepState, WorkflowJob } from '../model/job.js'
import type { Store } from '../model/store.js'
import { type AbilityTask, ENDED } from '../model/task.js'
import type { TaskRunner } from '../tasks/task-runner.js'
import { parseOutput, scopeOf } from './job-state.js'
import { loadOutputs, stepsReadBy, stepTaskId, taskIdOf, taskIdsOf } from './step-output.js'
import { isTruthy, render } from './template.js'

type PlannedStep = JobPlan['steps'][number]

export interface StepDeps {
  store: Store
  tasks: TaskRunner
  /** Tasks that just ended, as their event carried them: settling need not read them back. */
  justEnded: Map<string, AbilityTask>
  /** Most items of a `forEach` whose step sets no `maxItems` (GANTRY_MAX_FANOUT). */
  maxFanout: number
}

/**
 * A fan-out longer than its step's `maxItems` (or the server's GANTRY_MAX_FANOUT):
 * each item is a task, held, run and stored, so the list's length is the request's cost.
 */
export function fanOutError(step: PlannedStep, count: number, maxFanout: number, code: string) {
  const limit = step.maxItems ?? maxFanout
  if (count <= limit) return undefined
  const over =
    step.maxItems !== undefined
      ? `its maxItems ${limit}`
      : `the server's limit of ${limit} (GANTRY_MAX_FANOUT)`
  return new GantryError(code, `forEach of step '${step.id}' has ${count} items, over ${over}`, {
    details: { stepId: step.id, items: count, maxItems: limit },
  })
}

/** Starts a step's tasks; true when some were stored already (by a run that crashed before the job's write). */
export async function startStep(
  deps: StepDeps,
  job: WorkflowJob,
  step: PlannedStep,
  state: StepState,
): Promise<boolean> {
  const accepted: AbilityTask[] = []
  let found = false
  try {
    const read = [...stepsReadBy(step.if), ...stepsReadBy(step.forEach), ...stepsReadBy(step.with)]
    const outputs = await loadOutputs(deps.store, job, read)
    if (step.if !== undefined && !isTruthy(render(step.if, scopeOf(job, outputs)))) {
      state.status = 'skipped'
      return false
    }
    const items = step.forEach === undefined ? [undefined] : render(step.forEach, scopeOf(job, outputs))
    if (!Array.isArray(items))
      throw new GantryError('VALIDATION_FAILED', `forEach of step '${step.id}' is not a list`)
    const tooMany = fanOutError(step, items.length, deps.maxFanout, 'FANOUT_TOO_LARGE')
    if (tooMany) throw tooMany
    if (items.length === 0) {
      state.status = 'succeeded'
      state.items = ''
      state.settled = true
      return false
    }
    // on a retry, items that already succeeded keep their task and result
    const kept = state.items.length === items.length ? state.items : ''
    // every item is admitted (the plugins' beforeInvoke hooks, as for a submitted task) before any
    // is stored, so a refused item leaves nothing held or running
    const admitted: AbilityTask[] = []
    for (const [index, item] of items.entries()) {
      if (kept[index] === 's') continue
      const id = stepTaskId(job.id, step.id, index, state.round ?? 0)
      // stored before a crash that lost the job's own write: the job now knows it, nothing runs twice
      if (await deps.store.tasks.get(id)) {
        found = true
        continue
      }
      const scope = scopeOf(job, outputs, step.forEach === undefined ? {} : { item, index })
      const inputs = render(step.with, scope) as Record<string, unknown>
      const { task } = await deps.tasks.prepare({
        id,
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
      })
      admitted.push(task)
    }
    state.status = 'running'
    state.items = items.map((_, index) => (kept[index] === 's' ? 's' : '-')).join('')
    if (!kept) delete state.keptRounds
    delete state.settled
    for (const task of admitted) {
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
  return found
}

/** Notes which items ended (their results stay in their tasks); once all have, the step succeeds or fails. */
export async function settleStep(deps: StepDeps, jobId: string, step: PlannedStep, state: StepState) {
  let open = 0
  const items = [...state.items]
  const read = new Map<number, AbilityTask | undefined>()
  for (const [i, item] of items.entries()) {
    if (item !== '-') continue
    const taskId = taskIdOf(jobId, step.id, state, i)
    const task = deps.justEnded.get(taskId) ?? (await deps.store.tasks.get(taskId))
    deps.justEnded.delete(taskId)
    if (task && !ENDED.has(task.status)) {
      open++
      continue
    }
    read.set(i, task)
    items[i] = itemError(step, task) ? 'f' : 's'
  }
  state.items = items.join('')
  if (open > 0) return
  state.settled = true
  const failed = state.items.indexOf('f')
  if (failed === -1) {
    state.status = 'succeeded'
    return
  }
  // the first item that failed, in order, says why the step failed
  const task = read.has(failed)
    ? read.get(failed)
    : await deps.store.tasks.get(taskIdOf(jobId, step.id, state, failed))
  const error = itemError(step, task) ?? { code: 'PROVIDER_ERROR', message: 'step failed' }
  state.status = error.code === 'CANCELED' ? 'canceled' : 'failed'
  state.error = error
}

function itemError(step: PlannedStep, task: AbilityTask | undefined) {
  // accepted by the job but never stored (a crash in between, or a refusal such as 402)
  if (!task) return { code: 'WORKER_CRASHED', message: 'the step task was never stored' }
  if (task.status === 'succeeded') {
    const parsed = parseOutput(step, task)
    return parsed.ok ? undefined : { code: 'VALIDATION_FAILED', message: parsed.message }
  }
  return { code: task.errorCode ?? 'PROVIDER_ERROR', message: task.errorMessage ?? task.status }
}

/** Cancels every running step's tasks (their holds are released) and marks pending steps canceled. */
export async function stopSteps(deps: StepDeps, job: WorkflowJob) {
  for (const [stepId, state] of Object.entries(job.steps)) {
    if (state.status === 'pending') state.status = 'canceled'
    if (state.status !== 'running') continue
    for (const taskId of taskIdsOf(job.id, stepId, state)) {
      const task = await deps.store.tasks.get(taskId)
      if (task && !ENDED.has(task.status)) await deps.tasks.cancel(task).catch(() => {})
    }
    state.status = 'canceled'
  }
}
