import { createMiddleware } from 'hono/factory'
import { type JwtOptions, verifyToken } from '../auth/jwt.js'
import { GantryError } from '../errors.js'
import type { Caller } from '../model/call.js'
import type { AppEnv } from './env.js'

/** Requires `Authorization: Bearer <JWT>` and puts the caller on the context. */
export function requireAuth(jwt: JwtOptions) {
  const verified = createTokenCache(jwt)
  return createMiddleware<AppEnv>(async function requireAuth(c, next) {
    const header = c.req.header('authorization')
    const match = header && /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) throw new GantryError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <JWT>)')
    c.set('caller', verified(match[1]))
    await next()
  })
}

/**
 * Remembers tokens already verified, so a client making many calls pays for
 * the HMAC once; a remembered token is still refused once it expires.
 */
function createTokenCache(jwt: JwtOptions, size = 1000) {
  const cache = new Map<string, { caller: Caller; expiresAt: number }>()
  return function verified(token: string): Caller {
    const hit = cache.get(token)
    if (hit && hit.expiresAt > Date.now()) return hit.caller
    const caller = verifyToken(token, jwt)
    const exp = (
      JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number }
    ).exp
    if (cache.size >= size) cache.delete(cache.keys().next().value!)
    cache.set(token, { caller, expiresAt: exp * 1000 })
    return caller
  }
}

/** Lets only `role: admin` through. */
export const requireAdmin = createMiddleware<AppEnv>(async function requireAdmin(c, next) {
  if (c.get('caller')?.role !== 'admin') throw new GantryError('FORBIDDEN', 'this route is for admins')
  await next()
})
