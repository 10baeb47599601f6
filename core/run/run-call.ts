import { randomUUID } from 'node:crypto'
import type { MediaItem, ProviderResult } from '../contract.js'
import type { EventBus } from '../events/bus.js'
import type { InvocationLog, Store } from '../store/types.js'
import { backoffDelay, sleep } from './backoff.js'
import type { WorkerPool } from './pool.js'
import type { PreparedCall } from './prepare-call.js'
import { maskSecrets, summarizeForLog } from './redact.js'
import type { Scheduler } from './scheduler.js'
import type { AbilityInvokeResponse, Caller } from './types.js'
import type { WorkerFailure, WorkerReply } from './worker-protocol.js'

export interface CallRunnerDeps {
  scheduler: Scheduler
  pool: WorkerPool
  store: Store
  bus: EventBus
}

export interface RunOptions {
  caller: Caller
  taskId?: string
  priority?: number
  /** Aborting it cancels the call, waiting or running. */
  signal?: AbortSignal
  onProgress?(percent: number, stage?: string, eta?: number): void
}

/**
 * Runs a prepared call to its end: a slot on its executor, the worker pool,
 * retries with backoff for retryable failures, one invocation log per attempt.
 * Never throws for a failed call: the response says `failed`.
 */
export async function runCall(
  deps: CallRunnerDeps,
  call: PreparedCall,
  opts: RunOptions,
): Promise<AbilityInvokeResponse> {
  const callId = opts.taskId ?? randomUUID()
  const started = performance.now()
  let attempt = 0
  for (;;) {
    attempt++
    const outcome = await runAttempt(deps, call, opts, callId, attempt)
    const failure = outcome.reply.ok ? undefined : outcome.reply.error
    const canRetry = failure?.retryable && failure.code !== 'CANCELED' && attempt <= call.retry.max
    if (!canRetry || opts.signal?.aborted) {
      return toResponse(call, outcome.reply, outcome.logId, attempt, performance.now() - started, opts.taskId)
    }
    try {
      await sleep(backoffDelay(call.retry.backoffMs, attempt), opts.signal)
    } catch {
      return toResponse(
        call,
        canceledReply(),
        outcome.logId,
        attempt,
        performance.now() - started,
        opts.taskId,
      )
    }
  }
}

async function runAttempt(
  deps: CallRunnerDeps,
  call: PreparedCall,
  opts: RunOptions,
  callId: string,
  attempt: number,
) {
  const { ability, executor } = call
  const base = {
    callId,
    abilityId: ability.id,
    executorId: executor.id,
    userId: opts.caller.id,
    attempt,
    taskId: opts.taskId,
  }
  let reply: WorkerReply
  let durationMs = 0
  try {
    const release = await deps.scheduler.acquire({
      executorId: executor.id,
      maxConcurrency: executor.maxConcurrency,
      priority: opts.priority,
      signal: opts.signal,
    })
    const t0 = performance.now()
    deps.bus.emit('call.started', base)
    try {
      reply = await deps.pool.run(
        {
          callId: `${callId}:${attempt}`,
          op: 'invoke',
          moduleUrl: call.provider.moduleUrl,
          provider: executor.provider,
          inputs: call.inputs,
          config: call.config,
          media: call.media,
          attempt,
        },
        {
          timeoutMs: call.timeoutMs,
          signal: opts.signal,
          onProgress: (percent, stage, eta) => {
            deps.bus.emit('call.progress', { ...base, percent, stage, eta })
            opts.onProgress?.(percent, stage, eta)
          },
        },
      )
    } finally {
      release()
      durationMs = Math.round(performance.now() - t0)
    }
  } catch {
    // canceled while waiting for a slot
    reply = canceledReply()
  }
  const log = buildLog(call, opts, reply, attempt, durationMs)
  await deps.store.logs.append(log)
  const status = log.status
  deps.bus.emit('ability-log.created', {
    logId: log.logId,
    abilityId: log.abilityId,
    executorId: log.executorId,
    userId: log.userId,
    status,
    durationMs,
    errorCode: log.errorCode,
    createdAt: log.createdAt,
  })
  deps.bus.emit('call.finished', { ...base, status, durationMs, errorCode: log.errorCode })
  return { reply, logId: log.logId }
}

function buildLog(
  call: PreparedCall,
  opts: RunOptions,
  reply: WorkerReply,
  attempt: number,
  durationMs: number,
): InvocationLog {
  const failure: WorkerFailure | undefined = reply.ok ? undefined : reply.error
  const { imageUrl, imageBase64, images, metadata, executorId } = call.payload
  return {
    logId: randomUUID(),
    abilityId: call.ability.id,
    executorId: call.executor.id,
    userId: opts.caller.id,
    taskId: opts.taskId,
    attempt,
    status: reply.ok ? 'succeeded' : 'failed',
    durationMs,
    cost: { points: reply.ok ? call.estimate.points : 0 },
    request: summarizeForLog(
      { inputs: call.inputs, imageUrl, imageBase64, images, metadata, executorId },
      call.secrets,
    ),
    raw: reply.ok ? summarizeForLog(reply.result?.raw, call.secrets) : undefined,
    errorCode: failure?.code,
    errorDetail: failure ? String(maskSecrets(failure.message, call.secrets)) : undefined,
    createdAt: new Date().toISOString(),
  }
}

const media = (items: unknown): MediaItem[] => (Array.isArray(items) ? (items as MediaItem[]) : [])

function toResponse(
  call: PreparedCall,
  reply: WorkerReply,
  logId: string,
  attempts: number,
  durationMs: number,
  taskId?: string,
): AbilityInvokeResponse {
  const result: ProviderResult = reply.ok ? (reply.result ?? {}) : {}
  const response: AbilityInvokeResponse = {
    status: reply.ok ? 'succeeded' : 'failed',
    logId,
    ...(taskId ? { taskId } : {}),
    durationMs: Math.round(durationMs),
    attempts,
    images: media(result.images),
    videos: media(result.videos),
    texts: Array.isArray(result.texts) ? result.texts.map(String) : [],
    assets: media(result.assets),
    cost: { points: reply.ok ? call.estimate.points : 0 },
    raw: maskSecrets(result.raw, call.secrets),
    ...(call.payload.metadata ? { metadata: call.payload.metadata } : {}),
  }
  if (!reply.ok) {
    response.error = {
      code: reply.error.code,
      message: String(maskSecrets(reply.error.message, call.secrets)),
    }
  }
  return response
}

const canceledReply = (): WorkerReply => ({
  ok: false,
  error: { code: 'CANCELED', message: 'call canceled', retryable: false },
})
