import { BroadcastChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { CallSlots } from './call-slots.js'
import {
  DOWN_CHANNEL,
  UP_CHANNEL,
  type UpMessage,
  type WorkerCall,
  type WorkerReply,
} from './worker-protocol.js'

export interface PoolOptions {
  /** Worker threads (GANTRY_MAX_WORKERS). */
  maxWorkers: number
  /** Calls one worker runs at once; providers mostly wait on I/O. */
  callsPerWorker?: number
  /** How long an aborted call may take to stop before its worker is ended. */
  abortGraceMs?: number
  /** A worker failed outside any call. */
  onError?(err: unknown): void
}

export interface CallOptions {
  timeoutMs: number
  /** Aborting it cancels the call (`CANCELED`). */
  signal?: AbortSignal
  onProgress?(percent: number, stage?: string, eta?: number): void
  onLog?(message: string, fields?: Record<string, unknown>): void
}

export interface WorkerPool {
  /** Runs one operation on a worker. Never rejects: every outcome is a reply. */
  run(call: Omit<WorkerCall, 'slot'>, opts: CallOptions): Promise<WorkerReply>
  stats(): { threads: number; queued: number; running: number }
  destroy(): Promise<void>
}

interface CallEntry {
  opts: CallOptions
  abortedWith?: 'TIMEOUT' | 'CANCELED'
}

const workerFile = new URL('./worker-entry.cjs', import.meta.url)

/**
 * The one piscina pool every provider call runs on. A call past its timeout
 * is asked to stop through its signal; one that does not stop within the
 * grace period has its worker ended and replaced.
 */
export function createWorkerPool(options: PoolOptions): WorkerPool {
  const abortGraceMs = options.abortGraceMs ?? 250
  const slots = new CallSlots()
  const piscina = new Piscina({
    filename: workerFile.href,
    minThreads: options.maxWorkers,
    maxThreads: options.maxWorkers,
    concurrentTasksPerWorker: options.callsPerWorker ?? 32,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData: { slots: slots.buffer },
    atomics: 'async',
  })
  // a worker that fails outside a call (at start, say) must not take the server down
  piscina.on('error', (err: unknown) => options.onError?.(err))
  const calls = new Map<string, CallEntry>()
  // threads we ended recently: calls that failed with them were bystanders, not culprits
  const endedThreads = new Set<number>()
  let running = 0

  const up = new BroadcastChannel(UP_CHANNEL)
  const down = new BroadcastChannel(DOWN_CHANNEL)
  up.onmessage = (event: unknown) => {
    const msg = (event as { data: UpMessage }).data
    const entry = calls.get(msg.callId)
    if (!entry) return
    if (msg.type === 'progress') entry.opts.onProgress?.(msg.percent, msg.stage, msg.eta)
    else if (msg.type === 'log') entry.opts.onLog?.(msg.message, msg.fields)
  }
  up.unref()
  down.unref()

  function run(
    task: Omit<WorkerCall, 'slot'>,
    opts: CallOptions,
    retriedAsBystander = false,
  ): Promise<WorkerReply> {
    const call = task as WorkerCall
    call.slot = slots.take()
    const entry: CallEntry = { opts }
    const started = Date.now()
    calls.set(call.callId, entry)
    running++

    return new Promise<WorkerReply>((resolve) => {
      let settled = false
      let graceTimer: NodeJS.Timeout | undefined
      const settle = (reply: WorkerReply | Promise<WorkerReply>) => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        clearTimeout(graceTimer)
        opts.signal?.removeEventListener('abort', onCancel)
        calls.delete(call.callId)
        running--
        resolve(reply)
      }
      // piscina runs a task that has an AbortSignal alone on its worker, which would cost the
      // pool its concurrency; so calls carry no signal, and a stuck one has its thread ended here
      const stop = (code: 'TIMEOUT' | 'CANCELED') => {
        if (entry.abortedWith || settled) return
        entry.abortedWith = code
        down.postMessage({ type: 'abort', callId: call.callId, reason: code })
        graceTimer = setTimeout(() => {
          const threadId = slots.threadOf(call.slot)
          if (threadId !== undefined) endThread(threadId)
          settle(aborted(code, opts.timeoutMs))
        }, abortGraceMs)
      }
      const deadline = setTimeout(() => stop('TIMEOUT'), opts.timeoutMs)
      const onCancel = () => stop('CANCELED')
      if (opts.signal?.aborted) onCancel()
      else opts.signal?.addEventListener('abort', onCancel, { once: true })

      piscina.run(call).then(
        (reply: WorkerReply) => {
          slots.release(call.slot)
          settle(entry.abortedWith ? aborted(entry.abortedWith, opts.timeoutMs) : reply)
        },
        (err: unknown) => {
          const threadId = slots.threadOf(call.slot)
          slots.release(call.slot)
          if (entry.abortedWith) return settle(aborted(entry.abortedWith, opts.timeoutMs))
          const left = opts.timeoutMs - (Date.now() - started)
          // a call that shared a thread we ended was a bystander: run it again, once
          if (threadId !== undefined && endedThreads.has(threadId) && !retriedAsBystander && left > 0) {
            settled = true
            clearTimeout(deadline)
            opts.signal?.removeEventListener('abort', onCancel)
            calls.delete(call.callId)
            running--
            return resolve(run(task, { ...opts, timeoutMs: left }, true))
          }
          const message = (err as Error)?.message ?? String(err)
          settle({
            ok: false,
            error: { code: 'WORKER_CRASHED', message: `worker crashed: ${message}`, retryable: true },
          })
        },
      )
    })
  }

  /** Ends a worker thread; piscina fails its tasks and starts a replacement. */
  function endThread(threadId: number) {
    rememberEnded(threadId)
    const worker = piscina.threads.find((w) => w.threadId === threadId)
    void worker?.terminate()
  }

  function rememberEnded(threadId: number) {
    endedThreads.add(threadId)
    setTimeout(() => endedThreads.delete(threadId), 10_000).unref()
  }

  return {
    run: (call, opts) => run(call, opts),
    stats: () => ({ threads: piscina.threads.length, queued: piscina.queueSize, running }),
    async destroy() {
      up.close()
      down.close()
      await piscina.destroy()
    },
  }
}

function aborted(code: 'TIMEOUT' | 'CANCELED', timeoutMs: number): WorkerReply {
  return code === 'TIMEOUT'
    ? { ok: false, error: { code, message: `call timed out after ${timeoutMs} ms`, retryable: true } }
    : { ok: false, error: { code, message: 'call canceled', retryable: false } }
}
