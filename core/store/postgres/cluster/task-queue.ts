/**
 * The shared queue: ready tasks are claimed with FOR UPDATE SKIP LOCKED, and
 * each claimed task gets a lease row (holder `task:<id>`) in the same statement. An executor's
 * running count is its live leases (claimed tasks and sync calls); claims
 * count them under one advisory lock, so two nodes claiming at once cannot
 * both take the last slot.
 */
import type { Pool, PoolClient } from 'pg'
import type { ClaimWant, TaskQueue } from '../../../model/cluster.js'
import type { AbilityTask } from '../../../model/task.js'
import { withTransaction } from '../tx.js'
import { LOCK } from './channel.js'

/**
 * Takes the claim lock for the rest of the transaction, with two settings for it: the commit does
 * not wait for the disk (the lock is held until then, and every node waits on it; a claim lost to a
 * database crash only runs its task again), and the ready index is walked in claim order, which
 * stops after `n` rows (a table whose statistics lag a burst otherwise gets a bitmap scan that sorts
 * every queued task: 36 ms a claim with 24,000 queued, against about 0.1 ms).
 */
export async function lockClaims(client: PoolClient, schema: string): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(hashtext($1), $2), set_config('synchronous_commit', 'off', true),
       set_config('enable_bitmapscan', 'off', true)`,
    [schema, LOCK.claim],
  )
}

/** Live leases per executor among `executorIds`. */
export async function liveLeases(
  client: PoolClient | Pool,
  executorIds?: string[],
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ executor_id: string; n: number }>(
    `SELECT executor_id, count(*)::int AS n FROM leases
     WHERE expires_at > now() ${executorIds ? 'AND executor_id = ANY($1::text[])' : ''}
     GROUP BY executor_id`,
    executorIds ? [executorIds] : [],
  )
  return new Map(rows.map((r) => [r.executor_id, r.n]))
}

// the claimed record is the stored one moved to `running`, as the embedded store's claim writes it;
// `externalId` stays: a task put back with one (reclaimed, or stopped by a shutdown) polls it, never submits again
const CLAIM = `
WITH picked AS (
  SELECT t.id FROM unnest($1::text[], $2::int[]) AS w(executor_id, n)
  CROSS JOIN LATERAL (
    SELECT id FROM tasks
    WHERE status = 'queued' AND executor_id = w.executor_id AND run_after <= $3
    ORDER BY priority DESC, seq
    LIMIT w.n
    FOR UPDATE SKIP LOCKED
  ) t
), claimed AS (
  UPDATE tasks SET status = 'running', attempts = tasks.attempts + 1, run_after = 0,
    record = (tasks.record - 'stage' - 'eta' - 'runAfter') || jsonb_build_object(
      'status', 'running', 'attempts', tasks.attempts + 1, 'progress', 0,
      'startedAt', COALESCE(tasks.record->'startedAt', to_jsonb($3::bigint)))
  FROM picked WHERE tasks.id = picked.id
  RETURNING tasks.id, tasks.executor_id, tasks.priority, tasks.seq, tasks.record
), leased AS (
  INSERT INTO leases (holder, node_id, executor_id, task_id, expires_at)
  SELECT 'task:' || id, $4, executor_id, id, now() + $5 * interval '1 millisecond' FROM claimed
  ON CONFLICT (holder) DO UPDATE SET node_id = EXCLUDED.node_id, expires_at = EXCLUDED.expires_at
)
SELECT record FROM claimed ORDER BY priority DESC, seq`

export function createTaskQueue(pool: Pool, schema: string, nodeId: string, leaseMs: number): TaskQueue {
  return {
    claim(wants, now) {
      const asked = wants.filter((w) => w.count > 0 && w.maxConcurrency > 0)
      if (!asked.length) return Promise.resolve([])
      return withTransaction(pool, async (client) => {
        await lockClaims(client, schema)
        const running = await liveLeases(
          client,
          asked.map((w) => w.executorId),
        )
        const granted = asked
          .map((w: ClaimWant) => ({
            executorId: w.executorId,
            n: Math.min(w.count, w.maxConcurrency - (running.get(w.executorId) ?? 0)),
          }))
          .filter((g) => g.n > 0)
        if (!granted.length) return []
        const { rows } = await client.query<{ record: AbilityTask }>(CLAIM, [
          granted.map((g) => g.executorId),
          granted.map((g) => g.n),
          Math.floor(now),
          nodeId,
          leaseMs,
        ])
        return rows.map((r) => r.record)
      })
    },

    async depth() {
      const { rows } = await pool.query<{ executor_id: string; n: number }>(
        `SELECT executor_id, count(*)::int AS n FROM tasks WHERE status = 'queued' GROUP BY executor_id`,
      )
      return new Map(rows.map((r) => [r.executor_id, r.n]))
    },

    takeExpired() {
      return withTransaction(pool, async (client) => {
        await lockClaims(client, schema)
        await client.query('DELETE FROM leases WHERE expires_at <= now()')
        // also running tasks that never had a lease (left by a single node before it joined a cluster)
        const { rows } = await client.query<{ record: AbilityTask }>(
          `SELECT record FROM tasks t WHERE status = 'running'
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.holder = 'task:' || t.id)
           ORDER BY seq`,
        )
        return rows.map((r) => r.record)
      })
    },
  }
}
