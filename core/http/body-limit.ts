import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { GantryError } from '../errors.js'

/**
 * Refuses bodies over `maxBytes` with 413 PAYLOAD_TOO_LARGE. A declared
 * Content-Length is checked up front, which keeps the server's fast body
 * path; only a chunked body is counted as it streams in.
 */
export function limitBody(maxBytes: number) {
  const tooLarge = () =>
    new GantryError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes`)
  const streamed = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge()
    },
  })
  return createMiddleware(async function limitBody(c, next) {
    const declared = c.req.header('content-length')
    if (declared !== undefined) {
      if (Number(declared) > maxBytes) throw tooLarge()
      return next()
    }
    if (c.req.header('transfer-encoding')) return streamed(c, next)
    return next()
  })
}
