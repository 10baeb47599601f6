/**
 * The plugin contract: with `core/net/index.js`, the only part of Gantry's
 * core that a plugin imports.
 *
 * A plugin module default-exports either one provider (`defineProvider`) or a
 * plugin (`definePlugin`) that bundles providers and hooks. Providers run on
 * a worker thread: `invoke`, `submit` and `poll` receive plain data (inputs,
 * merged config) and report back through the context, never through shared
 * state with the main thread. A plugin that fetches URLs its callers name
 * uses the guard in `core/net/index.js` (kept apart because it loads undici).
 *
 * @example
 * ```ts
 * import { defineProvider } from 'gantry/core/contract.js'
 * export default defineProvider({
 *   name: 'shout',
 *   async invoke(ctx) {
 *     ctx.progress(50, 'shouting')
 *     return { texts: [String(ctx.inputs.text).toUpperCase()] }
 *   },
 * })
 * ```
 */

import type { EventType, GantryEvents } from './events/types.js'
import type { MediaItem } from './model/call.js'

/** Every bus event a plugin's `onEvent` sees: its type → its payload (types only; nothing loads at run time). */
export type { EventType, GantryEvents, MediaItem }

/**
 * One event as `onEvent` receives it, `[type, payload]`, a union over the
 * map: checking `type` narrows `payload`.
 */
export type PluginEvent = { [K in EventType]: [type: K, payload: GantryEvents[K]] }[EventType]

/** A JSON Schema object (draft 2020-12). */
export type JsonSchema = Record<string, unknown>

/** What a provider reports it used, for usage-based pricing. */
export interface Usage {
  seconds?: number
  inputTokens?: number
  outputTokens?: number
  images?: number
  [unit: string]: number | undefined
}

/** The normalized result every provider returns. Every field is optional. */
export interface ProviderResult {
  images?: MediaItem[]
  videos?: MediaItem[]
  texts?: string[]
  assets?: MediaItem[]
  /** The provider's own response, kept in the invocation log (secrets are masked by core). */
  raw?: unknown
  usage?: Usage
}

/**
 * Keys Gantry itself reads from an executor's `config` and an ability's
 * `config` (merged, the ability's over the executor's). Gantry checks them and
 * leaves them out when it checks a config against a provider's `configSchema`
 * or `abilityConfigSchema`, so a schema with `additionalProperties: false`
 * need not name them; they still reach `ctx.config`.
 */
export interface GantryConfigKeys {
  /** `true`: run the call with `submit` and then `poll` even though the provider has `invoke`. */
  async?: boolean
  /**
   * Private hosts (a ComfyUI on the LAN) whose result media Gantry may fetch
   * into its media store, past the guard that refuses private addresses.
   */
  mediaHosts?: string[]
}

/** The names of `GantryConfigKeys`, for code that needs them at run time. */
export const GANTRY_CONFIG_KEYS: readonly (keyof GantryConfigKeys)[] = ['async', 'mediaHosts']

export interface InvokeContext {
  /** The caller's inputs, validated against the ability's `input` schema, defaults applied. */
  inputs: Record<string, unknown>
  /** The executor's `config` with the ability's `config` merged over it, `${env:}` resolved (`GantryConfigKeys` included). */
  config: Record<string, unknown>
  /** Media that came with the call (`imageUrl`, `imageBase64`, `images[]`). */
  media: { imageUrl?: string; imageBase64?: string; images?: string[] }
  /** Aborted when the call times out or is canceled; stop soon after. */
  signal: AbortSignal
  /** Report progress (0-100), an optional stage name and an ETA in seconds. */
  progress(percent: number, stage?: string, eta?: number): void
  /** A line for the operator's log of this call. */
  log(message: string, fields?: Record<string, unknown>): void
  /** Which attempt this is (1 for the first). */
  attempt: number
  /** Identifies the call; stable across retries of one task. */
  callId: string
}

/** What `poll` reports for a submitted job. */
export type PollStatus =
  | { status: 'running'; progress?: number; stage?: string; eta?: number }
  | { status: 'succeeded'; result: ProviderResult }
  | { status: 'failed'; message: string; code?: string; retryable?: boolean }

export interface Provider {
  /** The name executors refer to with `provider:`. */
  name: string
  version?: string
  /** Schema of the executor's `config`, checked when definitions load (without `GantryConfigKeys`). */
  configSchema?: JsonSchema
  /** Schema of an ability's `config` for this provider, checked when definitions load (without `GantryConfigKeys`). */
  abilityConfigSchema?: JsonSchema
  /** Runs the call and returns its result. Throw `ProviderError` for a coded failure. */
  invoke?(ctx: InvokeContext): Promise<ProviderResult>
  /** Submit-then-poll providers: start the work and return the provider's job id. */
  submit?(ctx: InvokeContext): Promise<{ externalId: string; raw?: unknown }>
  /** Submit-then-poll providers: ask how the job is doing. */
  poll?(ctx: InvokeContext, externalId: string): Promise<PollStatus>
  /** Submit-then-poll providers: ask the provider to stop the job. */
  cancel?(ctx: InvokeContext, externalId: string): Promise<void>
  /**
   * For operators, called on the main thread with an executor's config: the
   * backend's own queue (ComfyUI's `/queue`) and the models it offers.
   */
  inspect?: {
    queue?(config: Record<string, unknown>): Promise<{ running: number; pending: number }>
    models?(config: Record<string, unknown>): Promise<Record<string, string[]>>
  }
}

/** Throw from a provider to fail a call with a code; `retryable: false` skips retries (a 4xx, say). */
export class ProviderError extends Error {
  readonly code: string
  readonly retryable: boolean
  readonly details?: unknown
  constructor(message: string, opts: { code?: string; retryable?: boolean; details?: unknown } = {}) {
    super(message)
    this.name = 'ProviderError'
    this.code = opts.code ?? 'PROVIDER_ERROR'
    this.retryable = opts.retryable ?? true
    this.details = opts.details
  }
}

/**
 * Thrown by a `beforeInvoke` hook to refuse a call with a stable code (e.g.
 * `FORBIDDEN`, `VALIDATION_FAILED`); the client gets that code, answered with
 * the code's own status (`FORBIDDEN` 403, `VALIDATION_FAILED` 400,
 * `PROVIDER_ERROR` 502), or 403 for a code Gantry does not know. A
 * `ProviderError` thrown by the hook refuses the call the same way (its
 * `retryable` plays no part); any other throw, even one with a `code`, is a
 * bug in the hook: logged, and the hook skipped.
 */
export class HookRejection extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'HookRejection'
    this.code = code
  }
}

/** Hooks run on the main thread. Each is time-boxed; one that throws or overruns is logged and skipped. */
export interface PluginHooks {
  /**
   * Every event on the bus (`ability-task.status`, `call.finished`, ...; see
   * `GantryEvents`). Checking `type` narrows `payload`:
   * `onEvent(type, payload) { if (type === 'call.finished') payload.durationMs }`.
   */
  onEvent?(...event: PluginEvent): void | Promise<void>
  /** Before a call: throw a `HookRejection` or a `ProviderError` to refuse it (see `HookRejection`), or return metadata to add. */
  beforeInvoke?(call: HookCall): void | Record<string, unknown> | Promise<void | Record<string, unknown>>
  /** After a call ended, with its outcome. */
  afterInvoke?(call: HookCall, outcome: HookOutcome): void | Promise<void>
}

export interface HookCall {
  abilityId: string
  executorId: string
  userId: string
  inputs: Record<string, unknown>
  metadata: Record<string, unknown>
}

export interface HookOutcome {
  status: 'succeeded' | 'failed'
  durationMs: number
  errorCode?: string
}

export interface Plugin {
  name: string
  version?: string
  providers?: Provider[]
  hooks?: PluginHooks
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts: a provider's pauses stay cancelable. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * `Retry-After` (RFC 9110): delay-seconds or an HTTP date, in milliseconds from
 * now; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Declare a provider; returns it unchanged, typed. */
export function defineProvider(provider: Provider): Provider {
  return provider
}

/** Declare a plugin bundling providers and hooks; returns it unchanged, typed. */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin
}
