import { Hono } from 'hono'
import { type JwtOptions, verifyToken } from '../../auth/jwt.js'
import { GantryError } from '../../errors.js'
import type { MediaLinks } from '../../media/signed-link.js'
import type { MediaStore } from '../../model/media-store.js'
import type { AppEnv } from '../env.js'

export interface MediaRoutesDeps {
  mediaStore: MediaStore
  mediaLinks: MediaLinks
  jwt: JwtOptions
}

/** `GET /media/:key`: stored result media, by signed link (no token) or for an admin's bearer token. */
export function mediaRoutes(deps: MediaRoutesDeps) {
  return new Hono<AppEnv>().get('/:key', async (c) => {
    const key = c.req.param('key')
    const signed = deps.mediaLinks.verify(key, c.req.query('exp'), c.req.query('sig'))
    if (!signed) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
      const caller = bearer ? verifyToken(bearer, deps.jwt) : undefined
      if (caller?.role !== 'admin')
        throw new GantryError('FORBIDDEN', 'this media link is missing, expired or not signed')
    }
    const media = await deps.mediaStore.get(key)
    if (!media) throw new GantryError('NOT_FOUND', `media '${key}' not found`)
    return c.body(new Uint8Array(media.bytes), 200, {
      'content-type': media.mimeType,
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
    })
  })
}
