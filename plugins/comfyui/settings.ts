/**
 * What one call needs from the merged config: where ComfyUI listens and how
 * to talk to it (the executor's part), and which workflow to run with which
 * bindings (the ability's part). Read once per operation, checked here so the
 * rest of the plugin can trust it.
 */
import { ProviderError } from '../../core/contract.js'

export interface Connection {
  /** Without a trailing slash. */
  baseUrl: string
  /** Sent with every request, e.g. the auth header of a proxy in front of ComfyUI. */
  headers: Record<string, string>
  /** How long one HTTP request may take. */
  timeoutMs: number
}

export interface JobSettings {
  /** An API-format workflow, or the path of a JSON file holding one. */
  workflow: unknown
  /** `{ inputName: 'nodeId.inputs.field' }`. */
  bindings: Record<string, string>
  /** `{ inputName: 'nodeId.inputs.image' }`, for images uploaded before the prompt. */
  images: Record<string, string>
  /** Node ids whose images make the result; all SaveImage nodes when absent. */
  outputs?: string[]
}

const DEFAULT_TIMEOUT_MS = 30_000
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/

/** `timeout` as YAML writes it (`30s`, `500ms`) or a number of milliseconds. */
function toMs(value: unknown, fallback: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  const match = typeof value === 'string' ? DURATION.exec(value) : null
  return match ? Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 'ms']) : fallback
}

const stringMap = (value: unknown): Record<string, string> =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string'))
    : {}

export function connectionOf(config: Record<string, unknown>): Connection {
  const baseUrl = typeof config.baseUrl === 'string' ? config.baseUrl.trim() : ''
  if (!baseUrl) throw new ProviderError('config.baseUrl is not set', { retryable: false })
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: stringMap(config.headers),
    timeoutMs: toMs(config.timeout, DEFAULT_TIMEOUT_MS),
  }
}

export function jobOf(config: Record<string, unknown>): JobSettings {
  if (config.workflow === undefined) {
    throw new ProviderError('config.workflow is not set', { code: 'VALIDATION_FAILED', retryable: false })
  }
  const outputs = Array.isArray(config.outputs) ? config.outputs.map(String) : undefined
  return {
    workflow: config.workflow,
    bindings: stringMap(config.bindings),
    images: stringMap(config.images),
    ...(outputs?.length ? { outputs } : {}),
  }
}
