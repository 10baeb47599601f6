/**
 * Errors as values with stable codes. Every failure a client can see is a
 * `GantryError`; the HTTP layer turns it into the JSON envelope in one place.
 */

/** Stable error codes and the HTTP status each is answered with. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  ABILITY_EXECUTOR_NOT_CONFIGURED: 400,
  UNAUTHORIZED: 401,
  INSUFFICIENT_CREDITS: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ABILITY_NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_IN_FLIGHT: 409,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 422,
  TIMEOUT: 504,
  PROVIDER_ERROR: 502,
  CANCELED: 409,
  WORKER_CRASHED: 500,
  SHUTTING_DOWN: 503,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class GantryError extends Error {
  readonly code: string
  readonly status: number
  readonly details?: unknown
  constructor(
    code: string,
    message: string,
    opts: { status?: number; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause })
    this.name = 'GantryError'
    this.code = code
    this.status = opts.status ?? ERROR_STATUS[code as ErrorCode] ?? 500
    this.details = opts.details
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    }
  }
}

/** Turns anything thrown into a GantryError, keeping the original as `cause`. */
export function coerceError(err: unknown, fallbackCode: string = 'INTERNAL'): GantryError {
  if (err instanceof GantryError) return err
  if (err instanceof Error) {
    const raw = (err as { code?: unknown }).code
    const code = typeof raw === 'string' ? raw : fallbackCode
    const known = code in ERROR_STATUS || /^[A-Z][A-Z0-9_]+$/.test(code)
    return new GantryError(known ? code : fallbackCode, err.message, {
      cause: err,
      details: (err as { details?: unknown }).details,
    })
  }
  return new GantryError(fallbackCode, String(err), { cause: err })
}

export const notFound = (what: string, id: string, code = 'NOT_FOUND') =>
  new GantryError(code, `${what} '${id}' not found`)

export const validationFailed = (message: string, details?: unknown) =>
  new GantryError('VALIDATION_FAILED', message, { details })
