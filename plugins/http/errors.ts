/**
 * The provider's failures as `ProviderError`s: a 4xx is the caller's fault
 * and not retried; a 5xx, a 429 or a network fault may pass and is retried.
 * Messages carry the status and a short excerpt of the answer, never the
 * request's credentials.
 */
import { ProviderError } from '../../core/contract.js'

const EXCERPT_CHARS = 200

/** A 4xx is final, except 408 (the server gave up waiting) and 429 (rate limited). */
export const isRetryableStatus = (status: number) => status >= 500 || status === 408 || status === 429

const CREDENTIAL_HEADER = /auth|key|token|secret|cookie|sign|session|password|credential/i

/**
 * The strings that must not leak from the request's headers: the value of
 * each header named like a credential, and its part after a scheme
 * (`Bearer sk-...` -> `sk-...`), since a platform that echoes a key back
 * usually echoes the bare key.
 */
export function credentialsOf(headers: Record<string, string>): string[] {
  const found: string[] = []
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADER.test(name)) continue
    if (value.length >= 4) found.push(value)
    const credential = /^\w+\s+(\S{4,})$/.exec(value)?.[1]
    if (credential) found.push(credential)
  }
  // longest first, so a value is masked whole before its credential part is looked for
  return found.sort((a, b) => b.length - a.length)
}

/** The start of an answer's body on one line, credentials masked. */
export function excerptOf(body: string, credentials: readonly string[]): string {
  let text = body.replace(/\s+/g, ' ').trim()
  for (const secret of credentials) text = text.split(secret).join('***')
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}...` : text
}

/** A non-2xx answer. `what` names the request without its query, e.g. `POST /v1/clean`. */
export function statusError(what: string, status: number, excerpt: string): ProviderError {
  const message = `${what} answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`
  return new ProviderError(message, { retryable: isRetryableStatus(status), details: { status } })
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

/** A request that got no answer: refused, reset, timed out. All retryable. */
export function networkError(what: string, err: unknown): ProviderError {
  const e = err as { code?: string; message?: string }
  if (e?.code && TIMEOUT_CODES.has(e.code)) {
    return new ProviderError(`${what} timed out (${e.code})`, { code: 'TIMEOUT', retryable: true })
  }
  const reason = e?.code ?? e?.message ?? String(err)
  return new ProviderError(`${what} failed: ${reason}`, { retryable: true })
}
