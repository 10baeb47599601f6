/**
 * Names nodes share in one database: the NOTIFY channel and the advisory lock
 * keys. Both include the schema, so Gantrys in different schemas of one
 * database never hear or block each other.
 */
import type { ClusterSignal } from '../../../model/cluster.js'

/** The LISTEN/NOTIFY channel of a schema (a quoted identifier for LISTEN; plain text for pg_notify). */
export function channelOf(schema: string): { name: string; quoted: string } {
  const name = `gantry_${schema}`.slice(0, 63)
  return { name, quoted: `"${name}"` }
}

/** What a signal looks like on the wire; an unknown payload (another version) is ignored. */
export const encodeSignal = (signal: ClusterSignal): string => JSON.stringify(signal)

export function decodeSignal(payload: string | undefined): ClusterSignal | undefined {
  try {
    const signal = JSON.parse(payload ?? '') as ClusterSignal
    return ['events', 'cancel', 'tasks', 'outbox'].includes(signal?.kind) ? signal : undefined
  } catch {
    return undefined
  }
}

/** The second half of every advisory lock key; the first is hashtext(schema). */
export const LOCK = {
  /** Claims and slot takes: one at a time, so counting leases then adding one cannot overshoot. */
  claim: 1,
  /** Event appends: one at a time, so ids commit in order and a reader never skips one. */
  events: 2,
  /** Held for as long as a node leads (sweeps, callbacks, lease reclaim). */
  leader: 3,
} as const
// withLock(key) uses (hashtext(schema || ':lock'), hashtext(key)), so it never meets the keys above
