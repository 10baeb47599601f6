/**
 * HS256 JSON Web Tokens, with the algorithm pinned: a token whose header
 * names any other algorithm (`none`, HS512, RS256) is refused before its
 * signature is looked at, and `exp` is required.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { GantryError } from '../errors.js'
import type { Caller } from '../model/call.js'
import { unstorable } from '../store/storable.js'

export interface JwtOptions {
  secret: string
  issuer?: string
  audience?: string
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  leewaySeconds?: number
}

export interface TokenClaims {
  sub: string
  role: 'user' | 'admin'
  exp: number
  iat?: number
  nbf?: number
  iss?: string
  aud?: string | string[]
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url')
const sign = (input: string, secret: string) => createHmac('sha256', secret).update(input).digest()
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))

export function signToken(
  claims: Omit<TokenClaims, 'exp' | 'iat'> & { exp?: number },
  opts: JwtOptions & { ttlSeconds?: number },
): string {
  const now = Math.floor(Date.now() / 1000)
  const body: TokenClaims = {
    ...claims,
    iat: now,
    exp: claims.exp ?? now + (opts.ttlSeconds ?? 3600),
    ...(opts.issuer ? { iss: opts.issuer } : {}),
    ...(opts.audience ? { aud: opts.audience } : {}),
  }
  const input = `${HEADER}.${b64url(JSON.stringify(body))}`
  return `${input}.${b64url(sign(input, opts.secret))}`
}

const unauthorized = (message: string) => new GantryError('UNAUTHORIZED', message)

function decodePart(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    if (value && typeof value === 'object' && !Array.isArray(value)) return value
  } catch {}
  throw unauthorized('malformed token')
}

/** The caller a token names, or an UNAUTHORIZED error saying why not. */
export function verifyToken(token: string, opts: JwtOptions): Caller {
  const parts = token.split('.')
  if (parts.length !== 3) throw unauthorized('malformed token')
  const [headerPart, payloadPart, signaturePart] = parts
  const header = decodePart(headerPart)
  if (header.alg !== 'HS256')
    throw unauthorized(`token algorithm '${String(header.alg)}' is not accepted (HS256 only)`)
  const expected = sign(`${headerPart}.${payloadPart}`, opts.secret)
  const given = Buffer.from(signaturePart, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw unauthorized('bad token signature')
  const claims = decodePart(payloadPart)
  const now = Math.floor(Date.now() / 1000)
  const leeway = opts.leewaySeconds ?? 30
  if (typeof claims.exp !== 'number') throw unauthorized('token has no exp claim')
  if (claims.exp + leeway <= now) throw unauthorized('token expired')
  if (typeof claims.nbf === 'number' && claims.nbf - leeway > now) throw unauthorized('token not yet valid')
  if (opts.issuer && claims.iss !== opts.issuer) throw unauthorized('token issuer not accepted')
  if (opts.audience) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!aud.includes(opts.audience)) throw unauthorized('token audience not accepted')
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw unauthorized('token has no sub claim')
  // the user id goes into every store row of the user's
  const subProblem = unstorable(claims.sub)
  if (subProblem) throw unauthorized(`token sub claim ${subProblem}`)
  const role = claims.role ?? 'user'
  if (role !== 'user' && role !== 'admin')
    throw unauthorized(`token role '${String(role)}' is not user or admin`)
  return { id: claims.sub, role }
}
