/**
 * Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * keyed by the base64 part of a `whsec_` secret.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { GantryError } from '../errors.js'

const SECRET_PREFIX = 'whsec_'
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as receivers' libraries allow). */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  // Buffer.from silently skips bad characters, which would sign with a key the receiver does not have
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new GantryError('VALIDATION_FAILED', 'callback secret must be whsec_ followed by base64')
  }
  return Buffer.from(encoded, 'base64')
}

/** The `webhook-signature` header value for one try. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${body}`)
  return `v1,${mac.digest('base64')}`
}

/** A fresh `webhook-id`. */
export function newWebhookId(): string {
  return `msg_${randomUUID()}`
}
