/**
 * The HTTP side: one request to ComfyUI, bounded by the configured timeout and
 * the call's signal. Every failure becomes a ProviderError: unreachable or 5xx
 * is worth another attempt, any other 4xx is not.
 */
import { ProviderError } from '../../core/contract.js'
import type { Connection } from './settings.js'

export interface ComfyAnswer {
  status: number
  contentType: string
  body: Buffer
}

export interface RequestOptions {
  method?: 'GET' | 'POST'
  json?: unknown
  form?: FormData
  signal?: AbortSignal
}

/** Sends one request and reads the whole answer, whatever its status. */
export async function request(
  conn: Connection,
  path: string,
  opts: RequestOptions = {},
): Promise<ComfyAnswer> {
  const url = conn.baseUrl + path
  const deadline = AbortSignal.timeout(conn.timeoutMs)
  const headers: Record<string, string> = { ...conn.headers }
  let body: string | FormData | undefined = opts.form
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(opts.json)
  }
  try {
    const res = await fetch(url, {
      method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline,
    })
    const bytes = Buffer.from(await res.arrayBuffer())
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: bytes }
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason
    const reason = deadline.aborted ? `no answer within ${conn.timeoutMs} ms` : causeOf(err)
    throw new ProviderError(`could not reach ComfyUI at ${url}: ${reason}`, { retryable: true })
  }
}

// fetch reports every network failure as 'fetch failed'; the useful part is its cause
function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  return e.cause?.code ?? e.cause?.message ?? e.message
}

/** Throws unless the answer is a 2xx. */
export function assertOk(answer: ComfyAnswer, what: string): void {
  if (answer.status >= 200 && answer.status < 300) return
  const text = answer.body.toString('utf8').slice(0, 300)
  const retryable = answer.status >= 500 || answer.status === 429 || answer.status === 408
  throw new ProviderError(`ComfyUI answered ${answer.status} to ${what}: ${text}`, {
    retryable,
    details: { status: answer.status },
  })
}

/** The answer's JSON; a body that is not JSON means a proxy or a server in trouble. */
export function jsonOf<T>(answer: ComfyAnswer, what: string): T {
  try {
    return JSON.parse(answer.body.toString('utf8')) as T
  } catch {
    const text = answer.body.toString('utf8').slice(0, 200)
    throw new ProviderError(`ComfyUI answered ${what} with no JSON: ${text}`)
  }
}

export async function getJson<T>(conn: Connection, path: string, signal?: AbortSignal): Promise<T> {
  const answer = await request(conn, path, { signal })
  assertOk(answer, `GET ${path}`)
  return jsonOf<T>(answer, `GET ${path}`)
}

export async function postJson(conn: Connection, path: string, json: unknown, signal?: AbortSignal) {
  assertOk(await request(conn, path, { json, signal }), `POST ${path}`)
}
