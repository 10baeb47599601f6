import type { Pool } from 'pg'
import { GantryError } from '../../errors.js'
import { MIGRATIONS } from './migrations/index.js'
import { schemaIdentifier } from './pool.js'
import { withTransaction } from './tx.js'

/** Serializes migrations across every node starting at once ('gantry' in ASCII). */
const MIGRATION_LOCK = 0x67616e747279

/**
 * Applies the migrations `schema` has not had, in order, in one transaction under
 * an advisory lock: nodes starting together apply each once, the others wait and find it done.
 */
export async function migrate(pool: Pool, schema: string): Promise<void> {
  const quoted = schemaIdentifier(schema)
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`)
    await client.query(`SET LOCAL search_path TO ${quoted}`)
    await client.query(
      'CREATE TABLE IF NOT EXISTS migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL)',
    )
    const { rows } = await client.query<{ version: number }>('SELECT version FROM migrations')
    const applied = new Set(rows.map((r) => r.version))
    const newest = Math.max(0, ...applied)
    const known = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0
    if (newest > known) {
      throw new GantryError(
        'STORE_FORMAT',
        `schema ${schema} was migrated by a newer Gantry (version ${newest}); this one knows up to ${known}`,
      )
    }
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO migrations (version, applied_at) VALUES ($1, now())', [
        migration.version,
      ])
    }
  })
}
