import type { Pool } from 'pg'
import type { InvocationLog } from '../../model/invocation-log.js'
import type { LogRepository } from '../../model/store.js'
import { createBatcher } from './batcher.js'
import { json, pageBySeq } from './page.js'

// a log written twice (a retried write) keeps its place and takes the later content
const APPEND = `
INSERT INTO logs (log_id, ability_id, user_id, created_at, record)
SELECT log_id, ability_id, user_id, created_at, record
FROM jsonb_to_recordset($1::jsonb) AS v(log_id text, ability_id text, user_id text, created_at timestamptz, record jsonb)
ON CONFLICT (log_id) DO UPDATE SET ability_id = EXCLUDED.ability_id, user_id = EXCLUDED.user_id,
  created_at = EXCLUDED.created_at, record = EXCLUDED.record`

async function appendRows(pool: Pool, logs: InvocationLog[]): Promise<void[]> {
  const rows = logs.map((log) => ({
    log_id: log.logId,
    ability_id: log.abilityId,
    user_id: log.userId,
    created_at: log.createdAt,
    record: log,
  }))
  await pool.query(APPEND, [json(rows)])
  return logs.map(() => undefined)
}

/** Invocation logs, one row each; `seq` orders them for pages. Appends of one turn go in one statement. */
export function createLogRepository(pool: Pool): LogRepository {
  const appendOne = createBatcher<InvocationLog, void>({
    many: (logs) => appendRows(pool, logs),
    one: async (log) => void (await appendRows(pool, [log])),
  })
  return {
    append: appendOne,
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
