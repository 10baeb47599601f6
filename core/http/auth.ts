import { createMiddleware } from 'hono/factory'
import { type JwtOptions, verifyToken } from '../auth/jwt.js'
import { GantryError } from '../errors.js'
import type { AppEnv } from './env.js'

/** Requires `Authorization: Bearer <JWT>` and puts the caller on the context. */
export function requireAuth(jwt: JwtOptions) {
  return createMiddleware<AppEnv>(async function requireAuth(c, next) {
    const header = c.req.header('authorization')
    const match = header && /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) throw new GantryError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <JWT>)')
    c.set('caller', verifyToken(match[1], jwt))
    await next()
  })
}

/** Lets only `role: admin` through. */
export const requireAdmin = createMiddleware<AppEnv>(async function requireAdmin(c, next) {
  if (c.get('caller')?.role !== 'admin') throw new GantryError('FORBIDDEN', 'this route is for admins')
  await next()
})
