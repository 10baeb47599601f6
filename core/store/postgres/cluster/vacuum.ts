/**
 * The queue's tables churn: each task is rewritten as it is claimed and as it
 * ends, each lease is inserted and deleted. Their dead rows slow every claim
 * (it walks the ready index and counts live leases), and autovacuum's defaults
 * (a fifth of a growing table) let them pile up; some servers run without it.
 * The leader vacuums what needs it.
 */
import type { Pool } from 'pg'
import { schemaIdentifier } from '../pool.js'

// a table is vacuumed once its dead rows pass this many, and a tenth of its live ones
const MIN_DEAD_ROWS = 1000

/** Vacuums (and analyzes) this schema's tables that have piled up dead rows; returns their names. */
export async function vacuumChurned(pool: Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ relname: string }>(
    `SELECT relname FROM pg_stat_user_tables
     WHERE schemaname = $1 AND n_dead_tup > GREATEST($2::bigint, n_live_tup / 10)
     ORDER BY n_dead_tup DESC`,
    [schema, MIN_DEAD_ROWS],
  )
  const quotedSchema = schemaIdentifier(schema)
  for (const { relname } of rows) {
    // a table name read from the catalog, quoted as an identifier (VACUUM takes no parameters)
    await pool.query(`VACUUM (ANALYZE) ${quotedSchema}."${relname.replaceAll('"', '""')}"`)
  }
  return rows.map((r) => r.relname)
}
