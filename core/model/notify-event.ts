/** What the notification stream carries (README, Events). */

/** One event as stored, replayed and sent; `id` increases by one per event, across restarts. */
export interface NotifyEvent {
  id: number
  type: string
  /** Whose event it is: only that user (and admins) receive it. */
  userId: string
  payload: unknown
  /** When it was published, epoch ms. */
  at: number
}

/** The event types clients may receive; `reset` is sent only by the stream itself. */
export const NOTIFY_TYPES = [
  'ability-task.status',
  'workflow-job.status',
  'wallet.points',
  'ability-log.created',
] as const

export type NotifyType = (typeof NOTIFY_TYPES)[number] | 'reset'
