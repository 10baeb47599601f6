import { sleep } from './backoff.js'
import type { WorkerPool } from './pool.js'
import type { PreparedCall } from './prepare-call.js'
import type { CallOp, WorkerCall, WorkerReply } from './worker-protocol.js'

export interface PoolRunOptions {
  callId: string
  attempt: number
  signal?: AbortSignal
  onProgress?(percent: number, stage?: string, eta?: number): void
  externalId?: string
  onExternalId?(externalId: string): Promise<void>
}

const DEFAULT_POLL_INTERVAL_MS = 1000
/** Polls in a row that may fail for a passing reason before the attempt fails. */
const MAX_FAILED_POLLS = 5
/** One submit or poll request may take this long before it counts as failed. */
const REQUEST_TIMEOUT_MS = 60_000

/**
 * Whether a call is submitted and then polled: the provider can do it, and
 * either cannot invoke or the call asks for it (`async: true` in inputs or config).
 */
export function usesSubmitPoll(call: PreparedCall): boolean {
  const { provider } = call.provider
  if (!provider.submit || !provider.poll) return false
  return !provider.invoke || call.inputs.async === true || call.config.async === true
}

/** Runs the provider side of one attempt: an invoke, or a submit followed by polls until the job ends. */
export function runOnPool(pool: WorkerPool, call: PreparedCall, opts: PoolRunOptions): Promise<WorkerReply> {
  if (usesSubmitPoll(call)) return submitAndPoll(pool, call, opts)
  return pool.run(workerCall(call, opts, 'invoke'), {
    timeoutMs: call.timeoutMs,
    signal: opts.signal,
    onProgress: opts.onProgress,
  })
}

function workerCall(call: PreparedCall, opts: PoolRunOptions, op: CallOp, externalId?: string, n = 0) {
  return {
    callId: n ? `${opts.callId}:${op}:${n}` : `${opts.callId}:${op}`,
    op,
    moduleUrl: call.provider.moduleUrl,
    provider: call.executor.provider,
    inputs: call.inputs,
    config: call.config,
    media: call.media,
    attempt: opts.attempt,
    externalId,
  } satisfies Omit<WorkerCall, 'slot'>
}

/**
 * The polling loop is the runner's, not the provider's: the job id is kept
 * before the first poll, so after a restart polling resumes and nothing is
 * submitted twice.
 */
async function submitAndPoll(
  pool: WorkerPool,
  call: PreparedCall,
  opts: PoolRunOptions,
): Promise<WorkerReply> {
  const started = Date.now()
  const interval = call.poll.intervalMs ?? DEFAULT_POLL_INTERVAL_MS
  const maxDuration = call.poll.maxDurationMs ?? call.timeoutMs
  const requestTimeout = Math.min(REQUEST_TIMEOUT_MS, maxDuration)
  let externalId = opts.externalId
  if (!externalId) {
    const submitted = await pool.run(workerCall(call, opts, 'submit'), {
      timeoutMs: requestTimeout,
      signal: opts.signal,
    })
    if (!submitted.ok) return submitted
    if (!submitted.externalId) {
      return {
        ok: false,
        error: { code: 'PROVIDER_ERROR', message: 'submit() returned no externalId', retryable: false },
      }
    }
    externalId = submitted.externalId
    await opts.onExternalId?.(externalId)
  }
  let failedPolls = 0
  let lastProgress = 0
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) return cancelJob(pool, call, opts, externalId, 'CANCELED')
    if (Date.now() - started > maxDuration) return cancelJob(pool, call, opts, externalId, 'TIMEOUT')
    const polled = await pool.run(workerCall(call, opts, 'poll', externalId, n), {
      timeoutMs: requestTimeout,
      signal: opts.signal,
    })
    if (!polled.ok) {
      if (polled.error.code === 'CANCELED') return cancelJob(pool, call, opts, externalId, 'CANCELED')
      // a poll that failed for a passing reason is asked again: ending the attempt here would
      // make its retry submit the job a second time
      if (!polled.error.retryable || ++failedPolls > MAX_FAILED_POLLS) return polled
      await sleep(interval, opts.signal).catch(() => {})
      continue
    }
    failedPolls = 0
    const status = polled.poll
    if (status?.status === 'succeeded') return { ok: true, result: status.result, externalId }
    if (status?.status === 'failed') {
      return {
        ok: false,
        error: {
          code: status.code ?? 'PROVIDER_ERROR',
          message: status.message,
          retryable: status.retryable !== false,
        },
      }
    }
    if (status?.status === 'running' && (status.progress ?? status.stage ?? status.eta) !== undefined) {
      // a stage or an eta without a new percentage keeps the last one
      lastProgress = status.progress ?? lastProgress
      opts.onProgress?.(lastProgress, status.stage, status.eta)
    }
    try {
      await sleep(interval, opts.signal)
    } catch {
      // canceled while waiting: the loop's first check cancels the job
    }
  }
}

async function cancelJob(
  pool: WorkerPool,
  call: PreparedCall,
  opts: PoolRunOptions,
  externalId: string,
  code: 'CANCELED' | 'TIMEOUT',
): Promise<WorkerReply> {
  // ask the provider to stop the job; its answer does not change the outcome
  await pool.run(workerCall(call, opts, 'cancel', externalId), { timeoutMs: 10_000 })
  const message =
    code === 'TIMEOUT'
      ? `job ${externalId} ran past ${call.poll.maxDurationMs ?? call.timeoutMs} ms`
      : 'call canceled'
  return { ok: false, error: { code, message, retryable: code === 'TIMEOUT' } }
}
