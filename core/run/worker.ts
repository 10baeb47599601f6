/**
 * The pool's worker: loads provider modules (cached by URL) and runs one
 * operation of a call. Every outcome is a value; a throw here would be taken
 * for a crashed worker.
 */
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads'
import type { InvokeContext, Provider } from '../contract.js'
import { findProvider } from './provider-module.js'
import {
  DOWN_CHANNEL,
  type DownMessage,
  UP_CHANNEL,
  type UpMessage,
  type WorkerCall,
  type WorkerFailure,
  type WorkerReply,
} from './worker-protocol.js'

const up = new BroadcastChannel(UP_CHANNEL)
const down = new BroadcastChannel(DOWN_CHANNEL)
/** A call's abort state; its AbortController is made only if the provider looks at the signal. */
class CallAbort {
  private controller?: AbortController
  private reason?: string
  get signal(): AbortSignal {
    this.controller ??= new AbortController()
    if (this.reason !== undefined && !this.controller.signal.aborted)
      this.controller.abort(new Error(this.reason))
    return this.controller.signal
  }
  get aborted(): boolean {
    return this.reason !== undefined
  }
  abort(reason: string) {
    this.reason ??= reason
    this.controller?.abort(new Error(reason))
  }
}

const running = new Map<string, CallAbort>()
const slots = new Int32Array(workerData.slots as SharedArrayBuffer)
const providers = new Map<string, Promise<Provider>>()

// aborts that arrived before their call started here (it was still in the pool's queue)
const abortedEarly = new Map<string, string>()

down.onmessage = (event: unknown) => {
  const msg = (event as { data: DownMessage }).data
  if (msg.type !== 'abort') return
  const abort = running.get(msg.callId)
  if (abort) abort.abort(msg.reason)
  else {
    abortedEarly.set(msg.callId, msg.reason)
    setTimeout(() => abortedEarly.delete(msg.callId), 60_000).unref()
  }
}
// the channels must not keep an idle worker alive
up.unref()
down.unref()

const post = (msg: UpMessage) => up.postMessage(msg)

/** Providers by module and name, each imported once per thread. */
function loadProvider(call: WorkerCall): Promise<Provider> {
  const key = `${call.provider}@${call.moduleUrl}`
  let provider = providers.get(key)
  if (!provider) {
    provider = import(call.moduleUrl).then((mod) => findProvider(mod, call.provider, call.moduleUrl))
    // a failed import is not cached, so a fixed module loads on the next call
    provider.catch(() => providers.delete(key))
    providers.set(key, provider)
  }
  return provider
}

export default async function runCall(call: WorkerCall): Promise<WorkerReply> {
  const abort = new CallAbort()
  const early = abortedEarly.get(call.callId)
  if (early) abort.abort(early)
  running.set(call.callId, abort)
  if (call.slot >= 0) Atomics.store(slots, call.slot, threadId)
  try {
    const provider = await loadProvider(call)
    const ctx: InvokeContext = {
      inputs: call.inputs,
      config: call.config,
      media: call.media,
      get signal() {
        return abort.signal
      },
      attempt: call.attempt,
      callId: call.callId,
      progress: (percent, stage, eta) => post({ type: 'progress', callId: call.callId, percent, stage, eta }),
      log: (message, fields) => post({ type: 'log', callId: call.callId, message, fields }),
    }
    switch (call.op) {
      case 'invoke':
        if (!provider.invoke) return unsupported(call)
        return { ok: true, result: (await provider.invoke(ctx)) ?? {} }
      case 'submit': {
        if (!provider.submit) return unsupported(call)
        const { externalId, raw } = await provider.submit(ctx)
        return { ok: true, externalId, raw }
      }
      case 'poll':
        if (!provider.poll) return unsupported(call)
        return { ok: true, poll: await provider.poll(ctx, call.externalId!) }
      case 'cancel':
        await provider.cancel?.(ctx, call.externalId!)
        return { ok: true }
    }
  } catch (err) {
    return { ok: false, error: toFailure(err, abort.aborted) }
  } finally {
    running.delete(call.callId)
  }
}

function unsupported(call: WorkerCall): WorkerReply {
  return {
    ok: false,
    error: {
      code: 'PROVIDER_ERROR',
      message: `provider '${call.provider}' has no ${call.op}()`,
      retryable: false,
    },
  }
}

function toFailure(err: unknown, aborted: boolean): WorkerFailure {
  const e = err as {
    name?: unknown
    code?: unknown
    message?: unknown
    retryable?: unknown
    details?: unknown
  }
  // only a ProviderError names its code: a library's own (undici's UND_ERR_SOCKET, fs's ENOENT)
  // says nothing a client can act on, and is kept in the message instead
  const coded = e?.name === 'ProviderError' && typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code)
  const code = coded ? (e.code as string) : 'PROVIDER_ERROR'
  const libraryCode = !coded && typeof e?.code === 'string' ? ` (${e.code})` : ''
  return {
    code: aborted && code === 'PROVIDER_ERROR' ? 'ABORTED' : code,
    message: (typeof e?.message === 'string' ? e.message : String(err)) + libraryCode,
    retryable: e?.retryable !== false,
    details: safeClone(e?.details),
  }
}

function safeClone(value: unknown): unknown {
  if (value === undefined) return undefined
  try {
    return structuredClone(value)
  } catch {
    return String(value)
  }
}
