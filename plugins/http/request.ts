/**
 * Sending one templated request to the platform and reading its JSON answer,
 * with the rate-limit waits a platform asks for (429/503 with Retry-After).
 */
import { Agent, type Dispatcher, type FormData, request } from 'undici'
import { type InvokeContext, ProviderError } from '../../core/contract.js'
import { type HttpConfig, type RequestSpec, timeoutMsOf } from './config.js'
import { credentialsOf, excerptOf, networkError, statusError } from './errors.js'
import { buildMultipart } from './multipart.js'
import { retryAfterMs, sleep } from './retry-after.js'
import { renderText, renderUrl, renderValue, type TemplateScope } from './template.js'

/** One pool of keep-alive connections per worker thread, shared by every call on it. */
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 })

const MAX_ANSWER_BYTES = 64 * 1024 * 1024
const RATE_LIMIT_RETRIES = 3
/** A longer wait is not worth holding a call for: fail, and let Gantry's retry backoff take over. */
const MAX_RETRY_AFTER_MS = 30_000

interface PreparedRequest {
  method: string
  url: string
  /** The request named without its query (which may hold keys), for messages. */
  what: string
  headers: Record<string, string>
  body?: string | FormData
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** Sends `spec` rendered over `scope`; resolves to the parsed answer of a 2xx, else throws a ProviderError. */
export async function sendRequest(
  spec: RequestSpec,
  ctx: InvokeContext,
  scope: TemplateScope,
): Promise<unknown> {
  const req = await prepareRequest(spec, ctx, scope)
  const timeoutMs = timeoutMsOf(ctx.config as HttpConfig)
  for (let retry = 0; ; retry++) {
    const answer = await exchange(req, timeoutMs, ctx.signal)
    if (answer.status >= 200 && answer.status < 300) return parseAnswer(req, answer)
    const limited = answer.status === 429 || answer.status === 503
    const wait = limited ? retryAfterMs(answer.headers['retry-after']) : undefined
    if (wait !== undefined && wait <= MAX_RETRY_AFTER_MS && retry < RATE_LIMIT_RETRIES) {
      ctx.log(`${req.what} answered HTTP ${answer.status}; retrying in ${wait} ms as Retry-After asks`)
      await sleep(wait, ctx.signal)
      continue
    }
    throw statusError(req.what, answer.status, excerptOf(answer.text, credentialsOf(req.headers)))
  }
}

async function prepareRequest(spec: RequestSpec, ctx: InvokeContext, scope: TemplateScope) {
  const config = ctx.config as HttpConfig
  const url = withQuery(joinUrl(config.baseUrl, renderUrl(spec.url, scope)), renderValue(spec.query, scope))
  const headers: Record<string, string> = {}
  // later sources win, whatever the case of the header's name
  for (const source of [config.headers, spec.headers]) {
    for (const [name, value] of Object.entries(source ?? {})) {
      headers[name.toLowerCase()] = renderText(String(value), scope)
    }
  }
  let body: PreparedRequest['body']
  if (spec.json !== undefined) {
    body = JSON.stringify(renderValue(spec.json, scope))
    headers['content-type'] ??= 'application/json'
  } else if (spec.multipart) {
    // the form sets its own content-type, with the boundary
    delete headers['content-type']
    body = await buildMultipart(renderValue(spec.multipart, scope) as Record<string, unknown>, ctx)
  }
  const method = (spec.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase()
  return { method, url: url.href, what: `${method} ${url.pathname}`, headers, body } satisfies PreparedRequest
}

function joinUrl(baseUrl: string | undefined, path: string): URL {
  let full = path
  if (!/^https?:\/\//i.test(path)) {
    if (!baseUrl) {
      throw new ProviderError(`request url '${path}' is relative and config.baseUrl is not set`, {
        retryable: false,
      })
    }
    full = `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
  }
  try {
    return new URL(full)
  } catch {
    throw new ProviderError(`request url '${full}' is not a valid url`, { retryable: false })
  }
}

/** Adds the rendered query; a list repeats its key, a missing value leaves its key out. */
function withQuery(url: URL, query: unknown): URL {
  if (!query || typeof query !== 'object') return url
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue
      url.searchParams.append(key, typeof item === 'object' ? JSON.stringify(item) : String(item))
    }
  }
  return url
}

async function exchange(req: PreparedRequest, timeoutMs: number, signal: AbortSignal): Promise<Answer> {
  try {
    const res = await request(req.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body,
      dispatcher: agent,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
    return { status: res.statusCode, headers: res.headers, text: await readText(res.body) }
  } catch (err) {
    if (err instanceof ProviderError) throw err
    throw networkError(req.what, err)
  }
}

/** The answer's body as text, refusing one too large to hold in memory. */
async function readText(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > MAX_ANSWER_BYTES) {
      body.destroy()
      throw new ProviderError(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`, { retryable: false })
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** JSON when it parses as JSON; otherwise the text itself (mappings can read it with the path `$`). */
function parseAnswer(req: PreparedRequest, answer: Answer): unknown {
  const text = answer.text
  if (!text.trim()) return null
  const type = String(answer.headers['content-type'] ?? '')
  try {
    return JSON.parse(text)
  } catch {
    if (!type.includes('json')) return text
    throw new ProviderError(`${req.what} answered invalid JSON`, { retryable: false })
  }
}
