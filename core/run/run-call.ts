import { randomUUID } from 'node:crypto'
import type { EventBus } from '../events/bus.js'
import type { MediaCustody } from '../media/custody.js'
import type { AbilityInvokeResponse, Caller } from '../model/call.js'
import type { Store } from '../model/store.js'
import { backoffDelay, sleep } from './backoff.js'
import { buildLog, toResponse } from './call-outcome.js'
import type { WorkerPool } from './pool.js'
import type { PreparedCall } from './prepare-call.js'
import { runOnPool } from './run-on-pool.js'
import type { Scheduler } from './scheduler.js'
import type { WorkerReply } from './worker-protocol.js'

export interface CallRunnerDeps {
  /** Where a call takes its executor slot: this process's scheduler, or the cluster's leases. */
  scheduler: Pick<Scheduler, 'acquire'>
  pool: WorkerPool
  store: Store
  bus: EventBus
  /** Copies result media into Gantry's store (absent: results are passed on as the provider gave them). */
  media?: MediaCustody
  log?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
}

export interface AttemptOptions {
  caller: Caller
  taskId?: string
  priority?: number
  /** Aborting it cancels the call, waiting or running. */
  signal?: AbortSignal
  onProgress?(percent: number, stage?: string, eta?: number): void
  /** Submit-then-poll: a job already submitted, to poll instead of submitting again. */
  externalId?: string
  /** Submit-then-poll: called with the provider's job id as soon as it is known, to keep it. */
  onExternalId?(externalId: string): Promise<void>
}

export interface AttemptOutcome {
  reply: WorkerReply
  logId: string
  durationMs: number
  /** Resolves once the attempt's log is written; a task's end is written alongside it. */
  logWritten: Promise<void>
}

/**
 * Runs a prepared call to its end: a slot on its executor, the worker pool,
 * retries with backoff for retryable failures, one invocation log per attempt.
 * Never throws for a failed call: the response says `failed`.
 */
export async function runCall(
  deps: CallRunnerDeps,
  call: PreparedCall,
  opts: AttemptOptions,
): Promise<AbilityInvokeResponse> {
  const callId = opts.taskId ?? randomUUID()
  const started = performance.now()
  for (let attempt = 1; ; attempt++) {
    const outcome = await runAttempt(deps, call, opts, callId, attempt)
    await outcome.logWritten
    const elapsed = () => performance.now() - started
    if (!shouldRetry(outcome.reply, attempt, call) || opts.signal?.aborted) {
      return toResponse(call, outcome.reply, outcome.logId, attempt, elapsed(), opts.taskId)
    }
    try {
      await sleep(backoffDelay(call.retry.backoffMs, attempt), opts.signal)
    } catch {
      return toResponse(call, canceledReply(), outcome.logId, attempt, elapsed(), opts.taskId)
    }
  }
}

/** Whether a failed attempt gets another: retryable, not canceled, attempts left. */
export function shouldRetry(reply: WorkerReply, attempt: number, call: PreparedCall): boolean {
  if (reply.ok) return false
  return reply.error.retryable && reply.error.code !== 'CANCELED' && attempt <= call.retry.max
}

/** One attempt: waits for a slot on the executor, runs, gives the slot back. */
export async function runAttempt(
  deps: CallRunnerDeps,
  call: PreparedCall,
  opts: AttemptOptions,
  callId: string,
  attempt: number,
): Promise<AttemptOutcome> {
  let release: () => void
  try {
    release = await deps.scheduler.acquire({
      executorId: call.executor.id,
      maxConcurrency: call.executor.maxConcurrency,
      priority: opts.priority,
      signal: opts.signal,
    })
  } catch {
    return recordAttempt(deps, call, opts, callId, attempt, canceledReply(), 0)
  }
  try {
    return await executeAttempt(deps, call, opts, callId, attempt)
  } finally {
    release()
  }
}

/** One attempt on a slot the caller holds: the provider call, its log and its events. */
export async function executeAttempt(
  deps: CallRunnerDeps,
  call: PreparedCall,
  opts: AttemptOptions,
  callId: string,
  attempt: number,
): Promise<AttemptOutcome> {
  const base = eventBase(call, opts, callId, attempt)
  deps.bus.emit('call.started', base)
  const t0 = performance.now()
  let reply = await runOnPool(deps.pool, call, {
    callId: `${callId}:${attempt}`,
    attempt,
    signal: opts.signal,
    externalId: opts.externalId,
    onExternalId: opts.onExternalId,
    onProgress: (percent, stage, eta) => {
      deps.bus.emit('call.progress', { ...base, percent, stage, eta })
      opts.onProgress?.(percent, stage, eta)
    },
  })
  if (reply.ok && reply.result && deps.media) {
    try {
      const hosts = Array.isArray(call.config.mediaHosts) ? call.config.mediaHosts.map(String) : []
      const context = { abilityId: call.ability.id, callId }
      reply = { ...reply, result: await deps.media.keepResult(reply.result, hosts, context) }
    } catch (err) {
      const message = (err as Error).message
      reply = { ok: false, error: { code: 'PROVIDER_ERROR', message, retryable: true } }
    }
  }
  return recordAttempt(deps, call, opts, callId, attempt, reply, Math.round(performance.now() - t0))
}

function recordAttempt(
  deps: CallRunnerDeps,
  call: PreparedCall,
  opts: AttemptOptions,
  callId: string,
  attempt: number,
  reply: WorkerReply,
  durationMs: number,
): AttemptOutcome {
  const log = buildLog(call, opts.caller.id, opts.taskId, reply, attempt, durationMs)
  if (log.usageRefused) {
    deps.log?.('warn', 'provider usage refused; the call costs its estimate', {
      abilityId: log.abilityId,
      logId: log.logId,
      taskId: log.taskId,
      reason: log.usageRefused,
    })
  }
  const logWritten = deps.store.logs.append(log).then(() =>
    deps.bus.emit('ability-log.created', {
      logId: log.logId,
      abilityId: log.abilityId,
      executorId: log.executorId,
      userId: log.userId,
      status: log.status,
      durationMs,
      errorCode: log.errorCode,
      createdAt: log.createdAt,
    }),
  )
  deps.bus.emit('call.finished', {
    ...eventBase(call, opts, callId, attempt),
    status: log.status,
    durationMs,
    errorCode: log.errorCode,
  })
  return { reply, logId: log.logId, durationMs, logWritten }
}

const eventBase = (call: PreparedCall, opts: AttemptOptions, callId: string, attempt: number) => ({
  callId,
  abilityId: call.ability.id,
  executorId: call.executor.id,
  userId: opts.caller.id,
  attempt,
  taskId: opts.taskId,
})

export const canceledReply = (): WorkerReply => ({
  ok: false,
  error: { code: 'CANCELED', message: 'call canceled', retryable: false },
})
