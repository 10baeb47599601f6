/**
 * Queueing a prompt: `POST /prompt` with our own `prompt_id`, so the id is
 * known before the answer is. ComfyUI versions from before it took a
 * `prompt_id` pick their own; the one in the answer is what counts.
 */
import { assertOk, jsonOf, request } from './client.js'
import { describeNodeErrors, type NodeErrors, type PromptRejection, rejectionError } from './prompt-errors.js'
import type { Connection } from './settings.js'
import type { ApiWorkflow } from './workflow.js'

interface PromptAnswer {
  prompt_id: string
  number: number
  node_errors?: NodeErrors
}

export interface QueuedPrompt {
  promptId: string
  number: number
  /** Problems ComfyUI found in nodes it will not run (it queues the prompt anyway). */
  warnings: string[]
}

export async function queuePrompt(
  conn: Connection,
  workflow: ApiWorkflow,
  ids: { promptId: string; clientId: string },
  signal: AbortSignal,
): Promise<QueuedPrompt> {
  const body = { prompt: workflow, client_id: ids.clientId, prompt_id: ids.promptId }
  const answer = await request(conn, '/prompt', { json: body, signal })
  // a 400 from ComfyUI itself is JSON; one from a proxy in front of it is reported as is
  if (answer.status === 400 && answer.contentType.includes('json'))
    throw rejectionError(400, jsonOf<PromptRejection>(answer, 'POST /prompt'))
  assertOk(answer, 'POST /prompt')
  const queued = jsonOf<PromptAnswer>(answer, 'POST /prompt')
  return {
    promptId: typeof queued.prompt_id === 'string' ? queued.prompt_id : ids.promptId,
    number: queued.number,
    warnings: describeNodeErrors(queued.node_errors),
  }
}
