/** Workflow jobs as stored. Times are epoch milliseconds. */

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'canceled'
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled'

export const JOB_ENDED: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'canceled'])
export const STEP_SETTLED: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'canceled'])

/**
 * A step as its job stores it. Its results are not here: each item's result is
 * stored once, in its task, and read from there (`step-output.ts`). A job is
 * written on every advance, so what it holds per item costs that many times over.
 */
export interface StepState {
  status: StepStatus
  /**
   * One character per item (one item without `forEach`): `-` not ended,
   * `s` succeeded, `f` failed. Each item is one task, whose id follows from
   * the job, step, item and round (`taskIdOf`).
   */
  items: string
  /** Retries of the step so far: part of its tasks' ids. */
  round?: number
  /** Items a retry kept from an earlier round (they had succeeded): item index to that round. */
  keptRounds?: Record<string, number>
  /** Every task ended: the step has an output, read from its tasks (a list of results for `forEach`). */
  settled?: boolean
  error?: { code: string; message: string }
}

/** The workflow as it was when the job started: a reload does not change a running job. */
export interface JobPlan {
  steps: {
    id: string
    ability: string
    with: Record<string, unknown>
    needs: string[]
    if?: unknown
    forEach?: unknown
    maxItems?: number
    retry?: { max: number; backoffMs: number }
    timeoutMs?: number
    continueOnError: boolean
    parse?: 'json'
    weight: number
  }[]
  output?: Record<string, unknown>
}

export interface WorkflowJob {
  id: string
  seq: number
  workflowId: string
  userId: string
  projectId?: string
  params: Record<string, unknown>
  status: JobStatus
  progress: number
  plan: JobPlan
  steps: Record<string, StepState>
  output?: unknown
  error?: { code: string; message: string; stepId?: string }
  consumed: boolean
  consumedAt?: number
  singletonKey?: string
  callbackUrl?: string
  callbackHeaders?: Record<string, string>
  callback?: { deliveryId: string }
  createdAt: number
  startedAt?: number
  finishedAt?: number
}

export interface JobQuery {
  userId?: string
  projectId?: string
  /** Not consumed: running, or ended and not yet consumed. */
  active?: boolean
  limit: number
  cursor?: string
}
