import type { Context } from 'hono'
import type { IdempotencyRecord } from '../model/idempotency.js'
import type { Store } from '../model/store.js'
import { fingerprint, type InFlightKeys, idempotencyScope, keyReused } from '../tasks/idempotency.js'

export interface IdempotentRequest<T> {
  c: Context
  inFlight: InFlightKeys
  store: Store
  userId: string
  /** The Idempotency-Key header, already checked; absent: the request simply runs. */
  key: string | undefined
  /** Keys of different routes never meet. */
  route: string
  body: unknown
  /** The first answer's resource, from the stored record. */
  replay(seen: IdempotencyRecord): Promise<T>
  /** Runs the request; `record` is to be written in the same step as what it creates. */
  create(record?: IdempotencyRecord): Promise<T>
}

/**
 * Idempotency-Key handling (IETF httpapi draft, Stripe): the same key and body
 * replay the first answer; another body is 422; a duplicate arriving while the
 * first is still handled is 409.
 */
export async function idempotent<T>(req: IdempotentRequest<T>): Promise<T> {
  if (!req.key) return req.create()
  const scope = idempotencyScope(req.userId, `${req.route} ${req.key}`)
  const print = fingerprint(req.route, req.body)
  const release = req.inFlight.claim(scope)
  try {
    const seen = await req.store.idempotency.get(scope)
    if (seen) {
      if (seen.fingerprint !== print) throw keyReused()
      req.c.header('Idempotent-Replayed', 'true')
      return await req.replay(seen)
    }
    return await req.create({ scope, fingerprint: print, status: 202, createdAt: Date.now() })
  } finally {
    release()
  }
}
