/**
 * A finished prompt, as `GET /history/{id}` tells it: `{}` until the prompt
 * has run, then `{ [id]: { prompt, outputs, status: { status_str, completed,
 * messages } } }`. `messages` is the run's event log as `[event, data]` pairs
 * (`execution_start`, `execution_error`, `execution_interrupted`, ...).
 */
import { getJson } from './client.js'
import type { Connection } from './settings.js'

export interface OutputImage {
  filename: string
  subfolder?: string
  type?: string
}

type Message = [string, Record<string, unknown>]

export interface HistoryEntry {
  /** `[number, prompt_id, workflow, extra_data, output node ids]`. */
  prompt?: unknown[]
  outputs?: Record<string, { images?: OutputImage[] }>
  status?: { status_str?: string; completed?: boolean; messages?: Message[] }
}

export async function historyOf(
  conn: Connection,
  promptId: string,
  signal?: AbortSignal,
): Promise<HistoryEntry | undefined> {
  const answer = await getJson<Record<string, HistoryEntry>>(
    conn,
    `/history/${encodeURIComponent(promptId)}`,
    signal,
  )
  return answer[promptId]
}

const eventOf = (entry: HistoryEntry, name: string) =>
  entry.status?.messages?.find((m) => Array.isArray(m) && m[0] === name)?.[1]

const nodeOf = (data: Record<string, unknown>) =>
  data.node_type ? `node ${data.node_id} (${data.node_type})` : `node ${data.node_id}`

/** Why the prompt failed, or undefined if it succeeded. */
export function failureOf(entry: HistoryEntry): string | undefined {
  if (entry.status?.status_str !== 'error') return undefined
  const error = eventOf(entry, 'execution_error')
  if (error) {
    const type = error.exception_type ? `${error.exception_type}: ` : ''
    return `ComfyUI ${nodeOf(error)} failed: ${type}${error.exception_message ?? 'no message'}`.trim()
  }
  const interrupted = eventOf(entry, 'execution_interrupted')
  if (interrupted) return `the prompt was interrupted in ComfyUI at ${nodeOf(interrupted)}`
  return 'ComfyUI reported an error without details'
}

/** Seconds from `execution_start` to `execution_success`, when ComfyUI stamped both (it does since 2024). */
export function runSecondsOf(entry: HistoryEntry): number | undefined {
  const start = eventOf(entry, 'execution_start')?.timestamp
  const end = eventOf(entry, 'execution_success')?.timestamp
  if (typeof start !== 'number' || typeof end !== 'number' || end < start) return undefined
  return (end - start) / 1000
}
