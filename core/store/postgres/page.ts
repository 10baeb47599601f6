import type { PoolClient } from 'pg'
import type { Page } from '../../model/store.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { Queryable } from './tx.js'

export interface PageQuery {
  /** Equality filters by column; a falsy value filters nothing (as in the embedded store). */
  where: Record<string, string | undefined>
  /** Further SQL conditions, fixed text. */
  also?: string[]
  limit: number
  cursor?: string
}

/**
 * A newest-first page of a table's records by `seq`. The cursor is the last
 * item's seq, so the next page starts below it whatever was written since.
 * `table` and the column names are ours, never a caller's.
 */
export async function pageBySeq<T>(db: Queryable, table: string, query: PageQuery): Promise<Page<T>> {
  const values: unknown[] = []
  const conditions = [...(query.also ?? [])]
  for (const [column, value] of Object.entries(query.where)) {
    if (!value) continue
    values.push(value)
    conditions.push(`${column} = $${values.length}`)
  }
  const before = decodeCursor<unknown>(query.cursor)
  if (typeof before === 'number' && Number.isFinite(before)) {
    values.push(before)
    conditions.push(`seq < $${values.length}`)
  }
  values.push(query.limit + 1)
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''
  const { rows } = await db.query<{ seq: string; record: T }>(
    `SELECT seq, record FROM ${table} ${where} ORDER BY seq DESC LIMIT $${values.length}`,
    values,
  )
  const page = rows.slice(0, query.limit)
  const items = page.map((r) => r.record)
  const last = page[page.length - 1]
  return rows.length > query.limit && last ? { items, nextCursor: encodeCursor(Number(last.seq)) } : { items }
}

/** Epoch ms for a bigint column: rounded up, so a fractional time is never treated as earlier than it is. */
export const ms = (t: number | undefined): number | null =>
  t === undefined || t === null ? null : Math.ceil(t)

/** The next `seq` of a table, taken before the insert so the stored record carries it. */
export async function nextSeq(client: PoolClient, table: 'jobs'): Promise<number> {
  const { rows } = await client.query<{ seq: string }>(
    `SELECT nextval(pg_get_serial_sequence('${table}', 'seq')) AS seq`,
  )
  return Number(rows[0].seq)
}

/** A record as a JSONB parameter (always text: pg would send a JS array as a Postgres array). */
export const json = (value: unknown) => JSON.stringify(value)
