import { createHash } from 'node:crypto'
import { GantryError } from '../errors.js'

export const IDEMPOTENCY_KEY_MAX = 255
/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000

/** Checks the header's value: present, at most 255 characters. */
export function readIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  if (header.length === 0 || header.length > IDEMPOTENCY_KEY_MAX) {
    throw new GantryError(
      'VALIDATION_FAILED',
      `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX} characters`,
    )
  }
  return header
}

/**
 * Keys belong to a user: the same key from two users is two keys. The user id's
 * length leads, so no pair of user and key spells another pair's scope (user
 * `a` with key `b:c` is not user `a:b` with key `c`), and nothing in it is a
 * character a store cannot hold (PostgreSQL text refuses NUL).
 */
export const idempotencyScope = (userId: string, key: string) => `${userId.length}:${userId}:${key}`

/** The request's fingerprint: the same body (keys in any order) gives the same one. */
export function fingerprint(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\u0000').update(canonicalJson(body)).digest('base64url')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * Keys whose first request is still being handled in this process. A
 * duplicate arriving meanwhile is refused with 409 rather than run twice.
 */
export class InFlightKeys {
  private readonly keys = new Set<string>()

  /** Claims the scope, or throws IDEMPOTENCY_IN_FLIGHT. Returns the release. */
  claim(scope: string): () => void {
    if (this.keys.has(scope)) {
      throw new GantryError(
        'IDEMPOTENCY_IN_FLIGHT',
        'a request with this Idempotency-Key is still being handled',
      )
    }
    this.keys.add(scope)
    return () => this.keys.delete(scope)
  }
}

export const keyReused = () =>
  new GantryError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with another request body')
