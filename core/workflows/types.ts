/** Workflow jobs as stored. Times are epoch milliseconds. */

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'canceled'
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled'

export const JOB_ENDED: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'canceled'])
export const STEP_SETTLED: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'canceled'])

export interface StepState {
  status: StepStatus
  /** One task per item (one item without `forEach`). */
  taskIds: string[]
  /** Retries of the step so far: part of its tasks' ids. */
  round?: number
  /** Each item's output once it succeeded (null while not). */
  results: unknown[]
  errors: ({ code: string; message: string } | null)[]
  /** The step's output: the item's result, or the list of them for `forEach`. */
  output?: unknown
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
