/**
 * The Store: everything Gantry keeps. Callers see only this interface, so the
 * embedded lowdb store and a PostgreSQL store are interchangeable; every
 * method is async and every list is a cursor page.
 */

export interface Page<T> {
  items: T[]
  /** Absent on the last page. */
  nextCursor?: string
}

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
  createdAt: string
}

export interface LogQuery {
  abilityId?: string
  userId?: string
  limit: number
  cursor?: string
}

export interface LogRepository {
  /** Resolves once the log is written (group-committed with its neighbours). */
  append(log: InvocationLog): Promise<void>
  get(logId: string): Promise<InvocationLog | undefined>
  /** Newest first. */
  list(query: LogQuery): Promise<Page<InvocationLog>>
}

export interface Store {
  readonly kind: string
  /** Takes ownership of the storage (a second owner is refused) and loads what is needed. */
  open(): Promise<void>
  /** Flushes pending writes and gives up ownership. */
  close(): Promise<void>
  readonly logs: LogRepository
}
