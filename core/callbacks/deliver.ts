/**
 * One try at delivering a callback: check the target again, sign, POST to the
 * checked address, and classify the answer. Never throws; the dispatcher
 * decides what happens next from the result.
 */

import { request } from 'undici'
import { retryAfterMs } from '../contract.js'
import type { CallbackDelivery, LookupFn } from '../model/callback.js'
import { createPinnedAgent } from './pinned-agent.js'
import { signWebhook } from './sign.js'
import { resolveCallbackTarget } from './ssrf.js'

export interface AttemptResult {
  ok: boolean
  status?: number
  error?: string
  /** The receiver asked to wait this long (429/503 with Retry-After). */
  retryAfterMs?: number
  /** The receiver answered 410 Gone: try no more. */
  stop?: boolean
}

export interface DeliverOptions {
  secret: string
  allowPrivate: boolean
  timeoutMs: number
  lookup?: LookupFn
}

const ERROR_LIMIT = 200
// headers the signature depends on, and ones that would change how the body is framed or where it goes
const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
])

/** Sends `delivery` once. 2xx is ok; 3xx is a failure and is not followed; 410 stops. */
export async function deliverOnce(delivery: CallbackDelivery, opts: DeliverOptions): Promise<AttemptResult> {
  const abort = new AbortController()
  const timer = setTimeout(
    () => abort.abort(new Error(`no answer within ${opts.timeoutMs} ms`)),
    opts.timeoutMs,
  )
  let agent: ReturnType<typeof createPinnedAgent> | undefined
  try {
    // DNS can hang as well as the receiver, so the deadline covers both
    const target = await untilAborted(resolveCallbackTarget(delivery.url, opts), abort.signal)
    agent = createPinnedAgent(target.address, target.family, opts.timeoutMs)
    const body = JSON.stringify(delivery.body)
    const res = await request(target.url, {
      method: 'POST',
      headers: signedHeaders(delivery, opts.secret, body),
      body,
      dispatcher: agent,
      signal: abort.signal,
    })
    const status = res.statusCode
    if (status >= 200 && status < 300) {
      await res.body.dump()
      return { ok: true, status }
    }
    const text = await readExcerpt(res.body)
    if (status === 410) return { ok: false, status, stop: true, error: excerpt(`HTTP 410 Gone ${text}`) }
    if (status >= 300 && status < 400) {
      const location = headerValue(res.headers.location) ?? '(none)'
      return { ok: false, status, error: excerpt(`HTTP ${status} redirect to ${location} not followed`) }
    }
    const retryAfterMs =
      status === 429 || status === 503 ? parseRetryAfter(headerValue(res.headers['retry-after'])) : undefined
    return { ok: false, status, retryAfterMs, error: excerpt(`HTTP ${status} ${text}`) }
  } catch (err) {
    const reason = abort.signal.aborted ? abort.signal.reason : err
    return { ok: false, error: excerpt(reason instanceof Error ? reason.message : String(reason)) }
  } finally {
    clearTimeout(timer)
    agent?.destroy().catch(() => {})
  }
}

function signedHeaders(delivery: CallbackDelivery, secret: string, body: string): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'Gantry-Callbacks' }
  for (const [name, value] of Object.entries(delivery.headers ?? {})) {
    const lower = name.toLowerCase()
    if (!RESERVED_HEADERS.has(lower) && !lower.startsWith('proxy-')) headers[lower] = value
  }
  // a fresh timestamp per try: receivers reject old ones, and the id stays the same for dedupe
  const timestamp = Math.floor(Date.now() / 1000)
  headers['content-type'] = 'application/json'
  headers['webhook-id'] = delivery.id
  headers['webhook-timestamp'] = String(timestamp)
  headers['webhook-signature'] = signWebhook(secret, delivery.id, timestamp, body)
  return headers
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | undefined, now = Date.now()) => retryAfterMs(value, now)

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The start of a response body, enough to say why the receiver refused. */
async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    size += chunk.length
    if (size >= ERROR_LIMIT * 4) break // a huge error page is not worth reading to the end
  }
  body.destroy()
  return Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim()
}

function excerpt(text: string): string {
  const flat = text.trim()
  return flat.length <= ERROR_LIMIT ? flat : `${flat.slice(0, ERROR_LIMIT - 1)}…`
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
