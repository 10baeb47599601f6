/** What an Idempotency-Key remembers: the request's fingerprint and the first answer. */
export interface IdempotencyRecord {
  /** `userId` + key. */
  scope: string
  fingerprint: string
  status: number
  taskId?: string
  jobId?: string
  createdAt: number
}
