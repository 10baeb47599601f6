import type { DefinitionSet } from '../definitions/types.js'
import type { Store } from '../model/store.js'
import type { AbilityTask } from '../model/task.js'
import { unusableBecause } from '../store/record-check.js'

export interface RecoveryDeps {
  store: Store
  definitions(): DefinitionSet
  /** Drives a task; `resume` polls a job already submitted instead of claiming anew. */
  start(task: AbilityTask, resume?: boolean): void
  finish(task: AbilityTask, end: Partial<AbilityTask>, attempts: number): Promise<boolean>
}

/**
 * At start: every queued task runs; a running one with a provider job is
 * polled again (never submitted twice); one without is re-run if it has
 * attempts left, else failed with WORKER_CRASHED. None stays `running`.
 */
export async function recoverTasks(deps: RecoveryDeps) {
  const counts = { queued: 0, resumed: 0, rerun: 0, failed: 0, skipped: 0 }
  for (const task of await deps.store.tasks.unfinished()) {
    // the stores leave such records out and report them; a task that is not whole is never run
    if (unusableBecause('task', task)) {
      counts.skipped++
    } else if (task.status === 'queued') {
      counts.queued++
      deps.start(task)
    } else if (task.externalId) {
      counts.resumed++
      deps.start(task, true)
    } else if (task.attempts <= retriesOf(task, deps.definitions())) {
      const requeued: AbilityTask = { ...task, status: 'queued' }
      if (await deps.store.tasks.save(requeued, { status: ['running'], attempts: task.attempts })) {
        counts.rerun++
        deps.start(requeued)
      }
    } else if (await deps.finish(task, crashed, task.attempts)) {
      counts.failed++
    }
  }
  return counts
}

/**
 * In a cluster (the leader), for tasks whose node stopped renewing their
 * leases: one with a provider job goes back to the queue keeping it (the next
 * claim polls it, never submits again); one without is re-run if it has
 * attempts left, else failed with WORKER_CRASHED. Every change is fenced by the
 * attempt it saw, so a node that comes back late changes nothing.
 */
export async function reclaimTasks(deps: Omit<RecoveryDeps, 'start'>, tasks: AbilityTask[]) {
  const counts = { requeued: 0, failed: 0, skipped: 0 }
  for (const task of tasks) {
    if (unusableBecause('task', task)) {
      counts.skipped++
    } else if (task.externalId || task.attempts <= retriesOf(task, deps.definitions())) {
      const requeued: AbilityTask = { ...task, status: 'queued' }
      if (await deps.store.tasks.save(requeued, { status: ['running'], attempts: task.attempts }))
        counts.requeued++
    } else if (await deps.finish(task, crashed, task.attempts)) {
      counts.failed++
    }
  }
  return counts
}

const crashed = {
  status: 'failed' as const,
  errorCode: 'WORKER_CRASHED',
  errorMessage: 'the process running this task stopped before it ended',
}

function retriesOf(task: AbilityTask, set: DefinitionSet): number {
  return (
    task.overrides?.retry?.max ??
    set.abilities.get(task.abilityId)?.retry?.max ??
    set.executors.get(task.executorId)?.retry?.max ??
    0
  )
}
