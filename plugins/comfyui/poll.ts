/**
 * `poll`: the history says whether the prompt has finished; until then the
 * queue says whether it runs or waits. While it runs, the progress and stage
 * are what ComfyUI's `/ws` socket said last (see socket.ts); without word from
 * the socket they are coarse: 0 while queued, 50 once running.
 */
import { type InvokeContext, type PollStatus, ProviderError } from '../../core/contract.js'
import { failureOf, type HistoryEntry, historyOf } from './history.js'
import { forgetProgress, progressOf } from './progress.js'
import { getQueue, placeOf } from './queue.js'
import { resultOf } from './results.js'
import { type Connection, connectionOf, jobOf } from './settings.js'

const RUNNING_PROGRESS = 50

async function finished(
  conn: Connection,
  ctx: InvokeContext,
  promptId: string,
  entry: HistoryEntry,
): Promise<PollStatus> {
  forgetProgress(promptId)
  const failure = failureOf(entry)
  // the workflow itself failed: the same prompt would fail again
  if (failure) return { status: 'failed', message: failure, code: 'PROVIDER_ERROR', retryable: false }
  const result = await resultOf(conn, promptId, entry, jobOf(ctx.config).outputs, ctx.signal)
  return { status: 'succeeded', result }
}

async function statusOf(conn: Connection, ctx: InvokeContext, promptId: string): Promise<PollStatus> {
  const entry = await historyOf(conn, promptId, ctx.signal)
  if (entry) return finished(conn, ctx, promptId, entry)
  const place = placeOf(await getQueue(conn, ctx.signal), promptId)
  if (place.state === 'running') {
    const heard = progressOf(promptId)
    if (heard) return { status: 'running', progress: heard.percent, stage: heard.stage, eta: heard.eta }
    return { status: 'running', progress: RUNNING_PROGRESS, stage: 'running' }
  }
  if (place.state === 'pending') {
    return { status: 'running', progress: 0, stage: `queued (position ${place.position})` }
  }
  // it may have finished between the two requests
  const late = await historyOf(conn, promptId, ctx.signal)
  if (late) return finished(conn, ctx, promptId, late)
  // ComfyUI restarted, or someone removed the prompt: another attempt queues it again
  forgetProgress(promptId)
  return {
    status: 'failed',
    message: `prompt lost by ComfyUI: ${promptId} is neither queued nor in its history`,
    code: 'PROVIDER_ERROR',
    retryable: true,
  }
}

export async function pollPrompt(ctx: InvokeContext, promptId: string): Promise<PollStatus> {
  const conn = connectionOf(ctx.config)
  try {
    return await statusOf(conn, ctx, promptId)
  } catch (err) {
    // an unreachable ComfyUI says nothing about the prompt, and a failed poll would make Gantry queue it
    // again: keep polling (the poll's maxDuration still bounds the wait)
    if (!(err instanceof ProviderError) || !err.retryable) throw err
    ctx.log('poll could not reach ComfyUI; trying again', { error: err.message })
    return { status: 'running', stage: 'waiting for ComfyUI to answer' }
  }
}
