import type { Pool, PoolClient } from 'pg'
import type { WorkflowJob } from '../../model/job.js'
import type { JobRepository } from '../../model/store.js'
import type { DamageReport } from '../damage-report.js'
import { putIdempotency } from './idempotency-repository.js'
import { putDelivery } from './outbox-repository.js'
import { json, ms, nextSeq, pageBySeq } from './page.js'
import { withTransaction } from './tx.js'

const JOB_ENDED_SQL = `('completed', 'failed', 'canceled')`

/** Workflow jobs, one row each. */
export function createJobRepository(pool: Pool, damage?: DamageReport): JobRepository {
  return {
    async insert(job, idempotency) {
      const seq = await withTransaction(pool, async (client) => {
        const seq = await nextSeq(client, 'jobs')
        await putJob(client, { ...job, seq })
        if (idempotency) await putIdempotency(client, idempotency)
        return seq
      })
      job.seq = seq
    },

    async save(job, deliveries = []) {
      await withTransaction(pool, async (client) => {
        await putJob(client, job)
        for (const delivery of deliveries) await putDelivery(client, delivery)
      })
    },

    async get(id) {
      const { rows } = await pool.query('SELECT record FROM jobs WHERE id = $1', [id])
      return rows[0]?.record
    },

    list(query) {
      return pageBySeq<WorkflowJob>(pool, 'jobs', {
        where: { user_id: query.userId, project_id: query.projectId },
        also: query.active ? ['NOT consumed'] : [],
        limit: query.limit,
        cursor: query.cursor,
      })
    },

    async unfinished() {
      const { rows } = await pool.query(
        `SELECT id, record FROM jobs WHERE status NOT IN ${JOB_ENDED_SQL} ORDER BY seq`,
      )
      return damage ? damage.usable<WorkflowJob>('job', rows) : rows.map((r) => r.record)
    },

    async activeWithSingleton(userId, key) {
      const { rows } = await pool.query(
        `SELECT record FROM jobs WHERE user_id = $1 AND singleton_key = $2 AND status NOT IN ${JOB_ENDED_SQL}
         ORDER BY seq LIMIT 1`,
        [userId, key],
      )
      return rows[0]?.record
    },

    async removeFinishedBefore(before) {
      const { rowCount } = await pool.query(
        `DELETE FROM jobs WHERE consumed AND status IN ${JOB_ENDED_SQL} AND COALESCE(finished_at, 0) < $1`,
        [Math.ceil(before)],
      )
      return rowCount ?? 0
    },
  }
}

/** Writes (or replaces) a job; a replaced job keeps the seq it was inserted with, its place in pages. */
async function putJob(client: PoolClient, job: WorkflowJob): Promise<void> {
  const seq = Number.isSafeInteger(job.seq) && job.seq > 0 ? job.seq : null
  await client.query(
    `INSERT INTO jobs (seq, id, user_id, project_id, status, consumed, singleton_key, finished_at, record)
     VALUES (COALESCE($1::bigint, nextval(pg_get_serial_sequence('jobs', 'seq'))), $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, project_id = EXCLUDED.project_id,
       status = EXCLUDED.status, consumed = EXCLUDED.consumed, singleton_key = EXCLUDED.singleton_key,
       finished_at = EXCLUDED.finished_at, record = EXCLUDED.record`,
    [
      seq,
      job.id,
      job.userId,
      job.projectId ?? null,
      job.status,
      !!job.consumed,
      job.singletonKey ?? null,
      ms(job.finishedAt),
      json(job),
    ],
  )
}
