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
import { queuePrompt } from './prompt.js'
import { connectionOf, jobOf } from './settings.js'
import { uploadInputImages } from './upload.js'
import { loadWorkflow } from './workflow.js'

// ComfyUI addresses a client's /ws events to this id; one per thread, ready for when progress follows /ws
const CLIENT_ID = `gantry-${randomUUID()}`

export async function submitPrompt(ctx: InvokeContext): Promise<{ externalId: string; raw: unknown }> {
  const conn = connectionOf(ctx.config)
  const job = jobOf(ctx.config)
  const workflow = await loadWorkflow(job.workflow)
  applyBindings(workflow, job.bindings, ctx.inputs)
  await uploadInputImages(conn, workflow, job.images, ctx)
  const queued = await queuePrompt(
    conn,
    workflow,
    { promptId: randomUUID(), clientId: CLIENT_ID },
    ctx.signal,
  )
  if (queued.warnings.length)
    ctx.log('ComfyUI queued the prompt but will skip nodes', { nodes: queued.warnings })
  return { externalId: queued.promptId, raw: { prompt_id: queued.promptId, number: queued.number } }
}
