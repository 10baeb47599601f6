/**
 * The cluster's replay log of client events, in the `events` table. Appends
 * take an advisory lock, so ids commit in id order: a reader that has seen
 * id N never later finds a smaller id committed, and reading `id > N` skips
 * nothing.
 */
import type { Pool } from 'pg'
import type { SharedEventLog } from '../../../model/cluster.js'
import type { NotifyEvent } from '../../../model/notify-event.js'
import { json } from '../page.js'
import { withTransaction } from '../tx.js'
import { channelOf, encodeSignal, LOCK } from './channel.js'

interface EventRow {
  id: string
  user_id: string
  type: string
  payload: unknown
  at: string
}

// bigint columns come back as strings
const toEvent = (r: EventRow): NotifyEvent => ({
  id: Number(r.id),
  type: r.type,
  userId: r.user_id,
  payload: r.payload,
  at: Number(r.at),
})

/**
 * `pool`'s connections already work in `schema` (see pool.ts); `schema` names
 * the lock and the channel.
 *
 * @example
 * const log = createSharedEventLog(pool, 'gantry')
 * const [stored] = await log.append([{ type: 'wallet.points', userId: 'u1', payload: {}, at: Date.now() }])
 */
export function createSharedEventLog(pool: Pool, schema: string): SharedEventLog {
  const channel = channelOf(schema).name
  return {
    async append(events) {
      if (events.length === 0) return []
      return withTransaction(pool, async (client) => {
        // the lock is held until the commit, and every node waits on it: the commit does not wait for
        // the disk (a database crash may lose the last events of the replay log, never a task's state)
        await client.query(
          `SELECT pg_advisory_xact_lock(hashtext($1), $2), set_config('synchronous_commit', 'off', true)`,
          [schema, LOCK.events],
        )
        // ids are drawn in the order rows leave the sorted select, so sorted ids match the batch
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO events (user_id, type, payload, at)
           SELECT user_id, type, payload, at
           FROM jsonb_to_recordset($1::jsonb) AS e(n int, user_id text, type text, payload jsonb, at bigint)
           ORDER BY n
           RETURNING id`,
          [
            json(
              events.map((e, n) => ({
                n,
                user_id: e.userId,
                type: e.type,
                payload: e.payload ?? null,
                at: Math.ceil(e.at),
              })),
            ),
          ],
        )
        const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b)
        const lastId = ids[ids.length - 1]
        // delivered at commit, so a node that hears it can read the events
        await client.query('SELECT pg_notify($1, $2)', [channel, encodeSignal({ kind: 'events', lastId })])
        return events.map((e, i) => ({ ...e, id: ids[i] }))
      })
    },
    async after(lastId, limit) {
      const { rows } = await pool.query<EventRow>(
        'SELECT id, user_id, type, payload, at FROM events WHERE id > $1 ORDER BY id LIMIT $2',
        [lastId, limit],
      )
      return rows.map(toEvent)
    },
    async lastId() {
      const { rows } = await pool.query<{ id: string }>('SELECT COALESCE(max(id), 0) AS id FROM events')
      return Number(rows[0].id)
    },
    async removeBefore(at) {
      const { rowCount } = await pool.query('DELETE FROM events WHERE at < $1', [Math.ceil(at)])
      return rowCount ?? 0
    },
  }
}
