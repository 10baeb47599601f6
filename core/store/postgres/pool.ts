import pg from 'pg'
import { GantryError } from '../../errors.js'

export interface PostgresStoreOptions {
  /** Connections in the pool. */
  poolSize?: number
  /** The schema Gantry's tables live in; created if missing. */
  schema?: string
  /** In a cluster, a lease not renewed for this long is lost (default 30 s). */
  leaseMs?: number
  log?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** A schema name, checked once, quoted for SQL (it cannot be a query parameter). */
export function schemaIdentifier(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new GantryError(
      'VALIDATION_FAILED',
      `the PostgreSQL schema must be a plain identifier (letters, digits, _), got '${schema}'`,
    )
  }
  return `"${schema}"`
}

/** A pool whose every connection works in `schema` (its search_path is set when it connects). */
export function createPool(
  url: string,
  { poolSize = 10, schema = 'gantry' }: PostgresStoreOptions = {},
): pg.Pool {
  const quoted = schemaIdentifier(schema)
  // the search path is a startup option of every connection, so it holds before any query runs
  // and no JIT: Gantry's statements are short, and compiling one costs more than it runs
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: `-c search_path=${quoted} -c jit=off`,
  })
  // an idle connection that drops (a server restart) must not crash the process; the pool replaces it
  pool.on('error', () => {})
  return pool
}
