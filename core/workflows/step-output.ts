/**
 * Where a step's results live: in its tasks, one per item, each stored once.
 * The job keeps only each item's state (`StepState.items`), since it is written
 * again on every advance; a step's output is read from its tasks when a
 * template, the job's output or a view needs it.
 */
import { createHash } from 'node:crypto'
import type { JobPlan, StepState, WorkflowJob } from '../model/job.js'
import type { Store } from '../model/store.js'
import type { AbilityTask } from '../model/task.js'
import { parseOutput } from './job-state.js'
import { references } from './template.js'

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

/** The task of one item: of the step's round, or of the round a retry kept it from. */
export function taskIdOf(jobId: string, stepId: string, state: StepState, item: number): string {
  return stepTaskId(jobId, stepId, item, state.keptRounds?.[item] ?? state.round ?? 0)
}

export function taskIdsOf(jobId: string, stepId: string, state: StepState): string[] {
  return Array.from(state.items, (_, item) => taskIdOf(jobId, stepId, state, item))
}

/** A settled step's output: its item's result, or for `forEach` the list of them (null where an item failed). */
export function outputOf(
  step: PlannedStep,
  state: StepState,
  taskIds: string[],
  tasks: ReadonlyMap<string, AbilityTask>,
): unknown {
  if (!state.settled) return undefined
  const results = taskIds.map((id) => {
    const task = tasks.get(id)
    if (task?.status !== 'succeeded') return null
    const parsed = parseOutput(step, task)
    return parsed.ok ? (parsed.value ?? null) : null
  })
  return step.forEach === undefined ? results[0] : results
}

/** The outputs of `stepIds` (those settled), read from their tasks. */
export async function loadOutputs(
  store: Store,
  job: WorkflowJob,
  stepIds: Iterable<string>,
): Promise<Record<string, unknown>> {
  const outputs: Record<string, unknown> = {}
  for (const id of new Set(stepIds)) {
    const step = job.plan.steps.find((s) => s.id === id)
    const state = job.steps[id]
    if (!step || !state?.settled) continue
    const ids = taskIdsOf(job.id, id, state)
    const tasks = new Map<string, AbilityTask>()
    for (const task of await Promise.all(ids.map((t) => store.tasks.get(t))))
      if (task) tasks.set(task.id, task)
    outputs[id] = outputOf(step, state, ids, tasks)
  }
  return outputs
}

/** The steps a template value reads. */
export function stepsReadBy(value: unknown): string[] {
  return references(value).flatMap((r) => (r.root === 'steps' ? [r.stepId!] : []))
}

type LegacyStep = StepState & {
  taskIds?: string[]
  results?: unknown[]
  errors?: unknown[]
  output?: unknown
}

/** A job stored before results moved to tasks (with `taskIds`, `results`, `output` per step), in today's shape. */
export function upgradeJob(job: WorkflowJob): WorkflowJob {
  for (const [stepId, state] of Object.entries(job.steps) as [string, LegacyStep][]) {
    if (!Array.isArray(state.taskIds)) continue
    const { taskIds, results = [], errors = [], output } = state
    const round = state.round ?? 0
    const kept: Record<string, number> = {}
    taskIds.forEach((id, i) => {
      for (let r = 0; r < round; r++) if (stepTaskId(job.id, stepId, i, r) === id) kept[i] = r
    })
    state.items = taskIds.map((_, i) => (results[i] != null ? 's' : errors[i] ? 'f' : '-')).join('')
    if (Object.keys(kept).length) state.keptRounds = kept
    if (output !== undefined) state.settled = true
    delete state.taskIds
    delete state.results
    delete state.errors
    delete state.output
  }
  return job
}
