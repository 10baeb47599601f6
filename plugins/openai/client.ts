/**
 * The HTTP side: one POST to `/chat/completions`, with 429 rate limits waited
 * out inside the call. Connections are pooled per worker thread, so calls on
 * one executor reuse them instead of paying a TLS handshake each.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { Agent, request } from 'undici'
import { type InvokeContext, ProviderError } from '../../core/contract.js'
import { apiErrorOf, isRateLimit, toProviderError } from './api-error.js'
import { MAX_RATE_LIMIT_RETRIES, rateLimitDelayMs, sleep } from './rate-limit.js'
import type { ChatSettings } from './settings.js'

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 })

interface HttpAnswer {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

function headersOf(settings: ChatSettings): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`
  if (settings.organization) headers['openai-organization'] = settings.organization
  return headers
}

async function send(settings: ChatSettings, signal: AbortSignal): Promise<HttpAnswer> {
  // the configured timeout bounds each request; the call's own signal bounds the whole call
  const deadline = AbortSignal.timeout(settings.timeoutMs)
  try {
    const res = await request(settings.url, {
      method: 'POST',
      headers: headersOf(settings),
      body: JSON.stringify(settings.body),
      dispatcher: agent,
      signal: AbortSignal.any([signal, deadline]),
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  } catch (err) {
    if (signal.aborted) throw signal.reason
    const reason = deadline.aborted ? `no answer within ${settings.timeoutMs} ms` : (err as Error).message
    // a network failure or a slow server: another attempt may well succeed
    throw new ProviderError(`could not reach ${settings.url}: ${reason}`, { retryable: true })
  }
}

function parseAnswer(answer: HttpAnswer): Record<string, unknown> {
  try {
    const parsed = JSON.parse(answer.text)
    if (parsed && typeof parsed === 'object') return parsed
  } catch {}
  // a 200 that is not JSON is a proxy or a server in trouble, not the caller's fault
  throw new ProviderError(
    `chat completions answered ${answer.status} with no JSON: ${answer.text.slice(0, 200)}`,
  )
}

/** Posts the chat request and returns the response JSON; every failure is a ProviderError. */
export async function createChatCompletion(
  settings: ChatSettings,
  ctx: InvokeContext,
): Promise<Record<string, unknown>> {
  for (let retry = 0; ; retry++) {
    const answer = await send(settings, ctx.signal)
    if (answer.status >= 200 && answer.status < 300) return parseAnswer(answer)
    const error = apiErrorOf(answer.status, answer.text)
    if (!isRateLimit(error) || retry >= MAX_RATE_LIMIT_RETRIES) throw toProviderError(error, settings.apiKey)
    const waitMs = rateLimitDelayMs(answer.headers, retry)
    ctx.log(`rate limited, retrying in ${waitMs} ms`, { retry: retry + 1, code: error.code })
    await sleep(waitMs, ctx.signal)
  }
}
