import type { Pool } from 'pg'
import type { CallbackDelivery } from '../../model/callback.js'
import type { OutboxRepository } from '../../model/store.js'
import { ms } from './page.js'
import type { Queryable } from './tx.js'

/** Writes (or replaces) a delivery; a task's or job's end writes its own in the same transaction. */
export async function putDelivery(db: Queryable, d: CallbackDelivery): Promise<void> {
  // a settled delivery is last touched when delivered, or at its last try
  const settledAt = d.status === 'pending' ? null : ms(d.deliveredAt ?? d.nextAttemptAt ?? d.createdAt)
  await db.query(
    `INSERT INTO outbox (id, status, next_attempt_at, created_at, settled_at, record) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, next_attempt_at = EXCLUDED.next_attempt_at,
       created_at = EXCLUDED.created_at, settled_at = EXCLUDED.settled_at, record = EXCLUDED.record`,
    [d.id, d.status, ms(d.nextAttemptAt) ?? 0, ms(d.createdAt) ?? 0, settledAt, JSON.stringify(d)],
  )
}

export function createOutboxRepository(pool: Pool): OutboxRepository {
  return {
    async due(now, limit) {
      const { rows } = await pool.query(
        `SELECT record FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, created_at LIMIT $2`,
        [Math.floor(now), limit],
      )
      return rows.map((r) => r.record)
    },
    async update(delivery) {
      await putDelivery(pool, delivery)
    },
    async get(id) {
      const { rows } = await pool.query('SELECT record FROM outbox WHERE id = $1', [id])
      return rows[0]?.record
    },
    async removeSettledBefore(before) {
      const { rowCount } = await pool.query(
        `DELETE FROM outbox WHERE status <> 'pending' AND settled_at < $1`,
        [Math.ceil(before)],
      )
      return rowCount ?? 0
    },
  }
}
