import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { coerceError, GantryError } from '../errors.js'

/** The one place an error becomes a response: `{error: {code, message, details?}}`, never a stack. */
export function errorResponse(c: Context, err: unknown, log?: (err: unknown) => void): Response {
  let error: GantryError
  if (err instanceof HTTPException) {
    error = new GantryError(err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED', err.message, {
      status: err.status,
    })
  } else {
    error = coerceError(err)
  }
  if (error.status >= 500) log?.(err)
  const body =
    error.status >= 500 && error.code === 'INTERNAL'
      ? { code: 'INTERNAL', message: 'internal error' }
      : error.toJSON()
  return c.json({ error: body }, error.status as ContentfulStatusCode)
}
