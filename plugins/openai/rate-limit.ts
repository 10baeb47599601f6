/**
 * Waiting out a 429 inside one call, the way OpenAI asks: for `retry-after-ms`
 * or `retry-after`, else a short doubling pause, never longer than 30 s and
 * cut short when the call is aborted.
 */
import type { IncomingHttpHeaders } from 'node:http'

export const MAX_RATE_LIMIT_RETRIES = 3
const MAX_WAIT_MS = 30_000
const FIRST_WAIT_MS = 1000

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

const numeric = (value: string | undefined) =>
  value !== undefined && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined

/** What the server asked for, in ms: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
function askedDelayMs(headers: IncomingHttpHeaders): number | undefined {
  const ms = numeric(header(headers, 'retry-after-ms'))
  if (ms !== undefined) return ms
  const after = header(headers, 'retry-after')
  const seconds = numeric(after)
  if (seconds !== undefined) return seconds * 1000
  const date = after ? Date.parse(after) : Number.NaN
  return Number.isNaN(date) ? undefined : date - Date.now()
}

/** How long to wait before retry number `retry` (0 for the first). */
export function rateLimitDelayMs(headers: IncomingHttpHeaders, retry: number): number {
  const wait = askedDelayMs(headers) ?? FIRST_WAIT_MS * 2 ** retry
  return Math.min(MAX_WAIT_MS, Math.max(0, wait))
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
