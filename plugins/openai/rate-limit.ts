/**
 * Waiting out a 429 inside one call, the way OpenAI asks: for `retry-after-ms`
 * or `retry-after`, else a short doubling pause, never longer than 30 s and
 * cut short when the call is aborted.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { retryAfterMs } from '../../core/contract.js'

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
  return retryAfterMs(header(headers, 'retry-after'))
}

/** How long to wait before retry number `retry` (0 for the first). */
export function rateLimitDelayMs(headers: IncomingHttpHeaders, retry: number): number {
  const wait = askedDelayMs(headers) ?? FIRST_WAIT_MS * 2 ** retry
  return Math.min(MAX_WAIT_MS, Math.max(0, wait))
}

export { sleep } from '../../core/contract.js'
