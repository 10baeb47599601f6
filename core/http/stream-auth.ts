/** Who is asking, for the notify routes: a bearer JWT, or (for the stream) a single-use ticket. */
import { type JwtOptions, verifyToken } from '../auth/jwt.js'
import { GantryError } from '../errors.js'
import type { Caller } from '../model/call.js'
import type { TicketStore } from './tickets.js'

const unauthorized = (message: string) => new GantryError('UNAUTHORIZED', message)

/** The caller of `Authorization: Bearer <JWT>`, undefined when the header is absent. */
export function bearerCaller(header: string | undefined, jwt: JwtOptions): Caller | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (!match) throw unauthorized('malformed Authorization header (Authorization: Bearer <JWT>)')
  return verifyToken(match[1], jwt)
}

/**
 * The stream's caller: a bearer header, or `?ticket=`. A token in the URL is
 * refused even next to a good header, so the mistake is seen and fixed
 * rather than left leaking tokens into access logs.
 */
export function streamCaller(
  req: { header(name: string): string | undefined; query(name: string): string | undefined },
  jwt: JwtOptions,
  tickets: TicketStore,
): Caller {
  if (req.query('token') !== undefined || req.query('access_token') !== undefined)
    throw unauthorized('tokens are not accepted in URLs: send Authorization: Bearer, or use ?ticket=')
  const fromHeader = bearerCaller(req.header('authorization'), jwt)
  if (fromHeader) return fromHeader
  const ticket = req.query('ticket')
  if (ticket === undefined)
    throw unauthorized('missing credentials: Authorization: Bearer <JWT>, or ?ticket= from POST /ticket')
  const caller = tickets.redeem(ticket)
  if (!caller) throw unauthorized('ticket unknown, already used or expired')
  return caller
}
