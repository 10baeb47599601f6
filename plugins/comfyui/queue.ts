/**
 * ComfyUI's queue (`GET /queue`): one prompt running at a time, the rest
 * pending. Each item is `[number, prompt_id, prompt, extra_data, outputs]`;
 * the pending list is ComfyUI's heap as stored, not sorted, so a position is
 * counted by `number` (lower runs first).
 */
import { getJson } from './client.js'
import { type Connection, connectionOf } from './settings.js'

type QueueItem = [number, string, ...unknown[]]

export interface QueueAnswer {
  queue_running: QueueItem[]
  queue_pending: QueueItem[]
}

export type QueuePlace = { state: 'running' } | { state: 'pending'; position: number } | { state: 'absent' }

export async function getQueue(conn: Connection, signal?: AbortSignal): Promise<QueueAnswer> {
  const answer = await getJson<Partial<QueueAnswer>>(conn, '/queue', signal)
  return { queue_running: answer.queue_running ?? [], queue_pending: answer.queue_pending ?? [] }
}

/** Where a prompt is: running, pending at a 1-based position, or in neither list. */
export function placeOf(queue: QueueAnswer, promptId: string): QueuePlace {
  if (queue.queue_running.some((item) => item[1] === promptId)) return { state: 'running' }
  const mine = queue.queue_pending.find((item) => item[1] === promptId)
  if (!mine) return { state: 'absent' }
  const ahead = queue.queue_pending.filter((item) => item[0] < mine[0]).length
  return { state: 'pending', position: ahead + 1 }
}

/**
 * How busy an executor's ComfyUI is, for the admin API:
 * `{ running, pending }` counts every prompt, Gantry's or not.
 */
export async function queueStatus(
  config: Record<string, unknown>,
): Promise<{ running: number; pending: number }> {
  const queue = await getQueue(connectionOf(config))
  return { running: queue.queue_running.length, pending: queue.queue_pending.length }
}
