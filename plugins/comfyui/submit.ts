/**
 * `submit`: fill the workflow in for this call, upload its input images and
 * queue it. Gantry keeps the returned prompt id before the first poll, so a
 * restart polls instead of queueing again; a crash between `POST /prompt` and
 * that write can still leave one orphan prompt in ComfyUI (the id is new on
 * every submit, so there is nothing to look up first). It runs, unwatched.
 */
import { randomUUID } from 'node:crypto'
import type { InvokeContext } from '../../core/contract.js'
import { applyBindings } from './bindings.js'
import { type QueuedPrompt, queuePrompt } from './prompt.js'
import { connectionOf, jobOf } from './settings.js'
import { clientIdFor, socketFor } from './socket.js'
import { uploadInputImages } from './upload.js'
import { loadWorkflow } from './workflow.js'

// long enough for a socket to a reachable ComfyUI to open, short enough not to matter when it cannot
const SOCKET_WAIT_MS = 1000

export async function submitPrompt(ctx: InvokeContext): Promise<{ externalId: string; raw: unknown }> {
  const conn = connectionOf(ctx.config)
  const job = jobOf(ctx.config)
  const workflow = await loadWorkflow(job.workflow)
  applyBindings(workflow, job.bindings, ctx.inputs)
  const socket = socketFor(conn)
  await uploadInputImages(conn, workflow, job.images, ctx)
  await socket.ready(SOCKET_WAIT_MS)
  if (!socket.open) {
    ctx.log('no progress socket to ComfyUI; progress comes from polling', { reason: socket.lastError })
  }
  const promptId = randomUUID()
  // followed before it is queued: ComfyUI may start it before it answers
  socket.track(promptId, workflow)
  let queued: QueuedPrompt
  try {
    queued = await queuePrompt(conn, workflow, { promptId, clientId: clientIdFor(conn) }, ctx.signal)
  } catch (err) {
    socket.forget(promptId)
    throw err
  }
  // ComfyUI from before `prompt_id` was accepted picks its own
  if (queued.promptId !== promptId) {
    socket.forget(promptId)
    socket.track(queued.promptId, workflow)
  }
  if (queued.warnings.length)
    ctx.log('ComfyUI queued the prompt but will skip nodes', { nodes: queued.warnings })
  return { externalId: queued.promptId, raw: { prompt_id: queued.promptId, number: queued.number } }
}
