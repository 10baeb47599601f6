/** Leases of sync calls: counted with claimed tasks, under the same lock, against one limit. */
import { randomUUID } from 'node:crypto'
import type { Pool } from 'pg'
import type { SlotLeases } from '../../../model/cluster.js'
import { withTransaction } from '../tx.js'
import { liveLeases, lockClaims } from './task-queue.js'

export function createSlotLeases(pool: Pool, schema: string, nodeId: string, leaseMs: number): SlotLeases {
  return {
    take(executorId, maxConcurrency) {
      return withTransaction(pool, async (client) => {
        await lockClaims(client, schema)
        const running = (await liveLeases(client, [executorId])).get(executorId) ?? 0
        if (running >= maxConcurrency) return undefined
        const holder = `call:${randomUUID()}`
        await client.query(
          `INSERT INTO leases (holder, node_id, executor_id, expires_at)
           VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')`,
          [holder, nodeId, executorId, leaseMs],
        )
        return holder
      })
    },
    async give(slotId) {
      await pool.query('DELETE FROM leases WHERE holder = $1', [slotId])
    },
    counts: () => liveLeases(pool),
  }
}
