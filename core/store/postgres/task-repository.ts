import type { Pool } from 'pg'
import { noteCharged } from '../../ledger/rules.js'
import type { TaskRepository } from '../../model/store.js'
import type { AbilityTask } from '../../model/task.js'
import type { DamageReport } from '../damage-report.js'
import { createBatcher } from './batcher.js'
import { putIdempotency } from './idempotency-repository.js'
import { holdIn, settleIn } from './ledger-writes.js'
import { putDelivery } from './outbox-repository.js'
import { json, ms, pageBySeq } from './page.js'
import { type Queryable, withTransaction } from './tx.js'

const ENDED_SQL = `('succeeded', 'failed', 'canceled')`

/** The ledger key of a task's hold. */
const holdKeyOf = (taskId: string) => `task:${taskId}`

/** A task as the columns beside its record; rows travel as one JSON array parameter. */
const rowOf = (task: AbilityTask) => ({
  id: task.id,
  user_id: task.userId,
  ability_id: task.abilityId,
  status: task.status,
  attempts: task.attempts,
  finished_at: ms(task.finishedAt),
  record: task,
  // what a claim filters and orders by
  executor_id: task.executorId,
  priority: task.priority,
  run_after: ms(task.runAfter) ?? 0,
})

const ROW_COLUMNS = `id text, user_id text, ability_id text, status text, attempts int, finished_at bigint,
  record jsonb, executor_id text, priority int, run_after bigint`

const INSERT = `
INSERT INTO tasks (seq, id, user_id, ability_id, status, attempts, finished_at, record, executor_id, priority, run_after)
SELECT n.seq, n.id, n.user_id, n.ability_id, n.status, n.attempts, n.finished_at,
  n.record || jsonb_build_object('seq', n.seq), n.executor_id, n.priority, n.run_after
FROM (SELECT nextval('tasks_seq_seq') AS seq, v.* FROM jsonb_to_recordset($1::jsonb) AS v(${ROW_COLUMNS})) n
RETURNING id, seq`

// as in the embedded store, an ended task meets no expectation: nothing changes it again;
// an attempt that ended (or went back to the queue) frees its executor slot in the same statement
const SAVE = `
WITH v AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS v(${ROW_COLUMNS}, expected boolean, expect_attempts int, expect_status text[])
), saved AS (
  UPDATE tasks t SET user_id = v.user_id, ability_id = v.ability_id, status = v.status, attempts = v.attempts,
    finished_at = v.finished_at, record = v.record, executor_id = v.executor_id, priority = v.priority,
    run_after = v.run_after
  FROM v WHERE t.id = v.id AND (NOT v.expected OR (t.status NOT IN ${ENDED_SQL}
    AND (v.expect_attempts IS NULL OR t.attempts = v.expect_attempts)
    AND (v.expect_status IS NULL OR t.status = ANY(v.expect_status))))
  RETURNING t.id, t.status
), freed AS (
  DELETE FROM leases l USING saved WHERE l.holder = 'task:' || saved.id AND saved.status <> 'running'
)
SELECT id FROM saved`

interface SaveRow extends ReturnType<typeof rowOf> {
  expected: boolean
  expect_attempts?: number
  expect_status?: readonly string[]
}

async function insertRows(db: Queryable, tasks: AbilityTask[]): Promise<number[]> {
  const { rows } = await db.query<{ id: string; seq: string }>(INSERT, [json(tasks.map(rowOf))])
  const seqOf = new Map(rows.map((r) => [r.id, Number(r.seq)]))
  return tasks.map((t) => seqOf.get(t.id)!)
}

async function saveRows(db: Queryable, rows: SaveRow[]): Promise<boolean[]> {
  // one row per task in a statement: the same task twice would be updated by either, at random
  if (new Set(rows.map((r) => r.id)).size < rows.length) throw new Error('a task twice in one batch')
  const saved = new Set((await db.query<{ id: string }>(SAVE, [json(rows)])).rows.map((r) => r.id))
  return rows.map((r) => saved.has(r.id))
}

/**
 * Tasks, one row each; every change an attempt makes is an UPDATE conditional on that attempt.
 * Inserts and changes with nothing beside them are batched: those of one turn go in one statement.
 */
export function createTaskRepository(pool: Pool, damage?: DamageReport): TaskRepository {
  const insertOne = createBatcher<AbilityTask, number>({
    many: (tasks) => insertRows(pool, tasks),
    one: async (task) => (await insertRows(pool, [task]))[0],
  })
  const saveOne = createBatcher<SaveRow, boolean>({
    many: (rows) => saveRows(pool, rows),
    one: async (row) => (await saveRows(pool, [row]))[0],
  })

  return {
    async insert(task, extras = {}) {
      const { idempotency, holdPoints = 0 } = extras
      if (!idempotency && holdPoints <= 0) {
        task.seq = await insertOne(task)
        return
      }
      task.seq = await withTransaction(pool, async (client) => {
        // the hold is checked and taken first: a wallet that cannot cover it stops the insert here
        await holdIn(client, task.userId, holdKeyOf(task.id), holdPoints, task.id)
        const [seq] = await insertRows(client, [task])
        if (idempotency) await putIdempotency(client, idempotency)
        return seq
      })
    },

    async save(task, expect, extras = {}) {
      const { deliveries = [], charge } = extras
      const row: SaveRow = {
        ...rowOf(task),
        expected: !!expect,
        expect_attempts: expect?.attempts,
        expect_status: expect?.status,
      }
      if (!deliveries.length && charge === undefined) return saveOne(row)
      return withTransaction(pool, async (client) => {
        const [saved] = await saveRows(client, [row])
        if (!saved) return false
        for (const delivery of deliveries) await putDelivery(client, delivery)
        if (charge === undefined) return true
        const settled = await settleIn(client, holdKeyOf(task.id), charge)
        const asked = task.resultPayload?.cost.points
        noteCharged(task, settled)
        // the wallet covered less than asked: the record says what was charged, in the same transaction
        if (task.resultPayload && task.resultPayload.cost.points !== asked) {
          await client.query(
            "UPDATE tasks SET record = jsonb_set(record, '{resultPayload,cost}', $2) WHERE id = $1",
            [task.id, JSON.stringify(task.resultPayload.cost)],
          )
        }
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
        `SELECT id, record FROM tasks WHERE status NOT IN ${ENDED_SQL} ORDER BY seq`,
      )
      return damage ? damage.usable<AbilityTask>('task', rows) : rows.map((r) => r.record)
    },

    async removeEndedBefore(before) {
      const { rowCount } = await pool.query(
        // a step's task goes with its job, which reads its result from it
        `DELETE FROM tasks WHERE status IN ${ENDED_SQL} AND COALESCE(finished_at, 0) < $1
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = tasks.record->'job'->>'jobId')`,
        [Math.ceil(before)],
      )
      return rowCount ?? 0
    },
  }
}
