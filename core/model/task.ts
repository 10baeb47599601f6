import type { AbilityInvokePayload, AbilityInvokeResponse } from './call.js'

export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled'

export const ENDED: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'canceled'])

/** An ability task as stored. Times are epoch milliseconds; the API shows them as ISO strings. */
export interface AbilityTask {
  id: string
  /** Creation order, for stable newest-first pages. */
  seq: number
  abilityId: string
  executorId: string
  userId: string
  status: TaskStatus
  /** Higher runs first. */
  priority: number
  progress: number
  stage?: string
  eta?: number
  /** Claims so far; every change made by an attempt is conditional on it (a fencing token). */
  attempts: number
  payload: AbilityInvokePayload
  logId?: string
  resultPayload?: AbilityInvokeResponse
  errorCode?: string
  errorMessage?: string
  /** The provider's job id, for submit-then-poll providers; polling resumes from it after a restart. */
  externalId?: string
  /** When a retry may start. */
  runAfter?: number
  callback?: { deliveryId: string }
  /** A workflow step's task: its job, step and forEach item. */
  job?: { jobId: string; stepId: string; item: number }
  /** A workflow step's own retry and timeout, over the ability's. */
  overrides?: { retry?: { max: number; backoffMs: number }; timeoutMs?: number }
  createdAt: number
  startedAt?: number
  finishedAt?: number
}

export interface TaskQuery {
  userId?: string
  status?: TaskStatus
  abilityId?: string
  limit: number
  cursor?: string
}
