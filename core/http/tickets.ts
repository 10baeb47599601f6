/**
 * Stream tickets: `EventSource` in a browser cannot send an Authorization
 * header, and a JWT in a URL ends up in logs. So a client trades its token
 * for a short-lived, single-use ticket and puts that in the URL instead.
 */
import { randomBytes } from 'node:crypto'
import type { Caller } from '../model/call.js'

export interface TicketStore {
  issue(caller: Caller): { ticket: string; expiresAt: string }
  /** The caller the ticket was issued to; undefined when unknown, used or expired. */
  redeem(ticket: string): Caller | undefined
}

/**
 * @example
 * const tickets = createTicketStore()
 * const { ticket } = tickets.issue(caller)
 * tickets.redeem(ticket) // caller, then undefined ever after
 */
export function createTicketStore(ttlMs = 60_000): TicketStore {
  const issued = new Map<string, { caller: Caller; expiresAt: number }>()

  // expired tickets are swept on issue, so unredeemed ones cannot pile up; all share one
  // ttl, so insertion order is expiry order and the sweep stops at the first live one
  function sweep(now: number) {
    for (const [ticket, entry] of issued) {
      if (entry.expiresAt > now) return
      issued.delete(ticket)
    }
  }

  return {
    issue(caller) {
      const now = Date.now()
      sweep(now)
      const ticket = randomBytes(24).toString('base64url')
      const expiresAt = now + ttlMs
      issued.set(ticket, { caller: { id: caller.id, role: caller.role }, expiresAt })
      return { ticket, expiresAt: new Date(expiresAt).toISOString() }
    },
    redeem(ticket) {
      const entry = issued.get(ticket)
      if (!entry) return undefined
      issued.delete(ticket)
      return entry.expiresAt > Date.now() ? entry.caller : undefined
    },
  }
}
