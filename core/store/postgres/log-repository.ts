import type { Pool } from 'pg'
import type { InvocationLog, LogRepository } from '../types.js'
import { pageBySeq } from './page.js'

/** Invocation logs, one row each; `seq` orders them for pages. */
export function createLogRepository(pool: Pool): LogRepository {
  return {
    async append(log) {
      // a log written twice (a retried write) keeps its place and takes the later content
      await pool.query(
        `INSERT INTO logs (log_id, ability_id, user_id, created_at, record) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (log_id) DO UPDATE SET ability_id = EXCLUDED.ability_id, user_id = EXCLUDED.user_id,
           created_at = EXCLUDED.created_at, record = EXCLUDED.record`,
        [log.logId, log.abilityId, log.userId, log.createdAt, JSON.stringify(log)],
      )
    },
    async get(logId) {
      const { rows } = await pool.query('SELECT record FROM logs WHERE log_id = $1', [logId])
      return rows[0]?.record
    },
    list(query) {
      return pageBySeq<InvocationLog>(pool, 'logs', {
        where: { ability_id: query.abilityId, user_id: query.userId },
        limit: query.limit,
        cursor: query.cursor,
      })
    },
    async removeBefore(before) {
      const { rowCount } = await pool.query('DELETE FROM logs WHERE created_at < $1', [new Date(before)])
      return rowCount ?? 0
    },
  }
}
