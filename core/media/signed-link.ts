import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Links to stored media that work without a token (an <img src>, a download)
 * for a while: `/media/<key>?exp=<unix seconds>&sig=<HMAC>`.
 */
export function createMediaLinks(secret: string, ttlSeconds: number) {
  const sign = (key: string, exp: number) =>
    createHmac('sha256', secret).update(`${key}:${exp}`).digest('base64url')
  return {
    link(key: string, now = Date.now()): string {
      const exp = Math.floor(now / 1000) + ttlSeconds
      return `/media/${key}?exp=${exp}&sig=${sign(key, exp)}`
    },
    verify(key: string, exp: string | undefined, sig: string | undefined, now = Date.now()): boolean {
      const expires = Number(exp)
      if (!sig || !Number.isInteger(expires) || expires * 1000 < now) return false
      const expected = Buffer.from(sign(key, expires))
      const given = Buffer.from(sig)
      return given.length === expected.length && timingSafeEqual(given, expected)
    },
  }
}

export type MediaLinks = ReturnType<typeof createMediaLinks>
