/**
 * The pool's worker: loads provider modules (cached by URL) and runs one
 * operation of a call. Every outcome is a value; a throw here would be taken
 * for a crashed worker.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads'
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
const running = new Map<string, AbortController>()
const modules = new Map<string, Promise<unknown>>()

// aborts that arrived before their call started here (it was still in the pool's queue)
const abortedEarly = new Map<string, string>()

down.onmessage = (event: unknown) => {
  const msg = (event as { data: DownMessage }).data
  if (msg.type !== 'abort') return
  const controller = running.get(msg.callId)
  if (controller) controller.abort(new Error(msg.reason))
  else {
    abortedEarly.set(msg.callId, msg.reason)
    setTimeout(() => abortedEarly.delete(msg.callId), 60_000).unref()
  }
}
// the channels must not keep an idle worker alive
up.unref()
down.unref()

const post = (msg: UpMessage) => up.postMessage(msg)

async function loadProvider(call: WorkerCall): Promise<Provider> {
  let mod = modules.get(call.moduleUrl)
  if (!mod) modules.set(call.moduleUrl, (mod = import(call.moduleUrl)))
  return findProvider(await mod, call.provider, call.moduleUrl)
}

export default async function runCall(call: WorkerCall): Promise<WorkerReply> {
  const controller = new AbortController()
  const early = abortedEarly.get(call.callId)
  if (early) controller.abort(new Error(early))
  running.set(call.callId, controller)
  post({ type: 'started', callId: call.callId, threadId })
  try {
    const provider = await loadProvider(call)
    const ctx: InvokeContext = {
      inputs: call.inputs,
      config: call.config,
      media: call.media,
      signal: controller.signal,
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
    return { ok: false, error: toFailure(err, controller.signal) }
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

function toFailure(err: unknown, signal: AbortSignal): WorkerFailure {
  const e = err as { code?: unknown; message?: unknown; retryable?: unknown; details?: unknown }
  const code = typeof e?.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code) ? e.code : 'PROVIDER_ERROR'
  return {
    code: signal.aborted && code === 'PROVIDER_ERROR' ? 'ABORTED' : code,
    message: typeof e?.message === 'string' ? e.message : String(err),
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
