import type { StoreDamage } from '../model/store.js'
import { unusableBecause } from './record-check.js'

/**
 * PostgreSQL's side of a damaged record: rows are shared by every node, so a
 * record a start cannot use is left where it is, skipped, logged once, and
 * counted for /metrics rather than stopping the start.
 */
export function createDamageReport(
  log?: (level: 'error', message: string, fields: Record<string, unknown>) => void,
) {
  const skipped = new Map<string, StoreDamage['quarantined'][number]>()
  return {
    /** The records of `rows` a start can use; the others are reported (once each) and left out. */
    usable<T>(collection: string, rows: { id: string; record: unknown }[]): T[] {
      const kept: T[] = []
      for (const { id, record } of rows) {
        const reason = unusableBecause(collection, record)
        if (!reason) {
          kept.push(record as T)
          continue
        }
        const key = `${collection}:${id}`
        if (skipped.has(key)) continue
        skipped.set(key, { collection, key: id, reason })
        log?.('error', 'stored record skipped: a start cannot use it', { collection, key: id, reason })
      }
      return kept
    },
    snapshot(): StoreDamage {
      return { unreadableLines: 0, quarantined: [...skipped.values()] }
    },
  }
}

export type DamageReport = ReturnType<typeof createDamageReport>
