/** One provider call as the invocation log keeps it. */

export interface InvocationLog {
  logId: string
  abilityId: string
  executorId: string
  userId: string
  taskId?: string
  attempt: number
  status: 'succeeded' | 'failed'
  durationMs: number
  cost: { points: number }
  /** The call's request, truncated, base64 elided, secrets masked. */
  request: unknown
  /** The provider's raw response, secrets masked. */
  raw: unknown
  errorCode?: string
  errorDetail?: string
  /** Why the provider's usage figures were not priced: the call was charged its estimate. */
  usageRefused?: string
  createdAt: string
}

export interface LogQuery {
  abilityId?: string
  userId?: string
  limit: number
  cursor?: string
}
