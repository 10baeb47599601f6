import type { Pool } from 'pg'
import type { IdempotencyRecord } from '../../model/idempotency.js'
import type { IdempotencyRepository } from '../../model/store.js'
import { ms } from './page.js'
import type { Queryable } from './tx.js'

/** Writes (or replaces) a record; tasks and jobs write theirs in their own transaction. */
export async function putIdempotency(db: Queryable, record: IdempotencyRecord): Promise<void> {
  await db.query(
    `INSERT INTO idempotency (scope, created_at, record) VALUES ($1, $2, $3)
     ON CONFLICT (scope) DO UPDATE SET created_at = EXCLUDED.created_at, record = EXCLUDED.record`,
    [record.scope, ms(record.createdAt) ?? 0, JSON.stringify(record)],
  )
}

export function createIdempotencyRepository(pool: Pool): IdempotencyRepository {
  return {
    async get(scope) {
      const { rows } = await pool.query('SELECT record FROM idempotency WHERE scope = $1', [scope])
      return rows[0]?.record
    },
    async removeBefore(before) {
      const { rowCount } = await pool.query('DELETE FROM idempotency WHERE created_at < $1', [
        Math.ceil(before),
      ])
      return rowCount ?? 0
    },
  }
}
