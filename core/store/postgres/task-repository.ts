import type { Pool, PoolClient } from 'pg'
import type { AbilityTask } from '../../tasks/types.js'
import type { TaskRepository } from '../types.js'
import { leaseOf } from './cluster/task-queue.js'
import { putIdempotency } from './idempotency-repository.js'
import { holdIn, settleIn } from './ledger-writes.js'
import { putDelivery } from './outbox-repository.js'
import { json, ms, pageBySeq } from './page.js'
import { inTransactionIf } from './tx.js'

const ENDED_SQL = `('succeeded', 'failed', 'canceled')`

/** The ledger key of a task's hold. */
const holdKeyOf = (taskId: string) => `task:${taskId}`

/** The columns a claim filters and orders by. */
const queueColumns = (task: AbilityTask) => [task.executorId, task.priority, ms(task.runAfter) ?? 0]

/** Tasks, one row each; every change an attempt makes is an UPDATE conditional on that attempt. */
export function createTaskRepository(pool: Pool): TaskRepository {
  return {
    async insert(task, extras = {}) {
      const { idempotency, holdPoints = 0 } = extras
      // one statement when nothing goes with the task: no transaction round trips
      task.seq = await inTransactionIf(pool, !!idempotency || holdPoints > 0, async (db) => {
        // the hold is checked and taken first: a wallet that cannot cover it stops the insert here
        if (holdPoints > 0)
          await holdIn(db as PoolClient, task.userId, holdKeyOf(task.id), holdPoints, task.id)
        const { rows } = await db.query<{ seq: string }>(
          `INSERT INTO tasks (seq, id, user_id, ability_id, status, attempts, finished_at, record,
             executor_id, priority, run_after)
           SELECT s.seq, $1, $2, $3, $4, $5, $6, $7::jsonb || jsonb_build_object('seq', s.seq), $8, $9, $10
           FROM (SELECT nextval(pg_get_serial_sequence('tasks', 'seq')) AS seq) s
           RETURNING seq`,
          [
            task.id,
            task.userId,
            task.abilityId,
            task.status,
            task.attempts,
            ms(task.finishedAt),
            json(task),
            ...queueColumns(task),
          ],
        )
        if (idempotency) await putIdempotency(db, idempotency)
        return Number(rows[0].seq)
      })
    },

    save(task, expect, extras = {}) {
      const { deliveries = [], charge } = extras
      return inTransactionIf(pool, deliveries.length > 0 || charge !== undefined, async (client) => {
        const values: unknown[] = [
          task.id,
          task.userId,
          task.abilityId,
          task.status,
          task.attempts,
          ms(task.finishedAt),
          json(task),
          ...queueColumns(task),
          leaseOf(task.id),
        ]
        const conditions = ['id = $1']
        if (expect) {
          // as in the embedded store, an ended task meets no expectation: nothing changes it again
          conditions.push(`status NOT IN ${ENDED_SQL}`)
          if (expect.attempts !== undefined) {
            values.push(expect.attempts)
            conditions.push(`attempts = $${values.length}`)
          }
          if (expect.status) {
            values.push(expect.status)
            conditions.push(`status = ANY($${values.length}::text[])`)
          }
        }
        // an attempt that ended (or went back to the queue) frees its executor slot in the same statement
        const { rows } = await client.query<{ saved: number }>(
          `WITH saved AS (
             UPDATE tasks SET user_id = $2, ability_id = $3, status = $4, attempts = $5, finished_at = $6,
               record = $7, executor_id = $8, priority = $9, run_after = $10
             WHERE ${conditions.join(' AND ')} RETURNING status),
           freed AS (DELETE FROM leases WHERE holder = $11 AND EXISTS (SELECT 1 FROM saved WHERE status <> 'running'))
           SELECT count(*)::int AS saved FROM saved`,
          values,
        )
        if (!rows[0].saved) return false
        for (const delivery of deliveries) await putDelivery(client, delivery)
        if (charge !== undefined) await settleIn(client as PoolClient, holdKeyOf(task.id), charge)
        return true
      })
    },

    async get(id) {
      const { rows } = await pool.query('SELECT record FROM tasks WHERE id = $1', [id])
      return rows[0]?.record
    },

    list(query) {
      return pageBySeq<AbilityTask>(pool, 'tasks', {
        where: { user_id: query.userId, status: query.status, ability_id: query.abilityId },
        limit: query.limit,
        cursor: query.cursor,
      })
    },

    async unfinished() {
      const { rows } = await pool.query(
        `SELECT record FROM tasks WHERE status NOT IN ${ENDED_SQL} ORDER BY seq`,
      )
      return rows.map((r) => r.record)
    },

    async removeEndedBefore(before) {
      const { rowCount } = await pool.query(
        `DELETE FROM tasks WHERE status IN ${ENDED_SQL} AND COALESCE(finished_at, 0) < $1`,
        [Math.ceil(before)],
      )
      return rowCount ?? 0
    },
  }
}
