/**
 * An error answer of a chat completions endpoint, in OpenAI's shape
 * (`{"error": {"message", "type", "code"}}`) or whatever a compatible server
 * sends, turned into a ProviderError that says whether a retry can help.
 */
import { ProviderError } from '../../core/contract.js'

export interface ApiError {
  status: number
  message: string
  type?: string
  code?: string
}

const EXCERPT = 300
// the statuses OpenAI's own SDKs retry: a timeout, a conflict, and anything the server broke
const RETRYABLE = (status: number) => status === 408 || status === 409 || status >= 500

const excerpt = (text: string) => (text.length > EXCERPT ? `${text.slice(0, EXCERPT)}...` : text)

export function apiErrorOf(status: number, bodyText: string): ApiError {
  let error: Record<string, unknown> | undefined
  try {
    const parsed = JSON.parse(bodyText)
    // OpenAI nests it under `error`; some compatible servers put it at the top or send a string
    const inner = parsed?.error ?? parsed
    error = typeof inner === 'string' ? { message: inner } : inner
  } catch {}
  const message = typeof error?.message === 'string' ? error.message : excerpt(bodyText.trim())
  return {
    status,
    message: message || `HTTP ${status}`,
    type: typeof error?.type === 'string' ? error.type : undefined,
    code: typeof error?.code === 'string' ? error.code : undefined,
  }
}

/** A 429 that waiting can cure; `insufficient_quota` is also a 429 and cannot be. */
export const isRateLimit = (e: ApiError) => e.status === 429 && e.code !== 'insufficient_quota'

/** The key never leaves in a message, even if a server echoes it back. */
function withoutKey(text: string, apiKey?: string): string {
  return apiKey && apiKey.length >= 4 ? text.split(apiKey).join('***') : text
}

export function toProviderError(e: ApiError, apiKey?: string): ProviderError {
  const details = { status: e.status, type: e.type, code: e.code }
  const message = withoutKey(e.message, apiKey)
  if (e.code === 'insufficient_quota') {
    return new ProviderError(`quota exceeded (429 insufficient_quota): ${message}`, {
      retryable: false,
      details,
    })
  }
  const retryable = isRateLimit(e) || RETRYABLE(e.status)
  return new ProviderError(`chat completions answered ${e.status}: ${message}`, { retryable, details })
}
