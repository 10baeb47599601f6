import type { ClusterCoordination } from '../../model/cluster.js'
import type { MediaStore } from '../../model/media-store.js'
import type { Store } from '../../model/store.js'
import { createDamageReport } from '../damage-report.js'
import { createCoordination } from './cluster/coordination.js'
import { createIdempotencyRepository } from './idempotency-repository.js'
import { createJobRepository } from './job-repository.js'
import { createLedgerRepository } from './ledger-repository.js'
import { createLogRepository } from './log-repository.js'
import { createPostgresMediaStore } from './media-store.js'
import { migrate } from './migrate.js'
import { createOutboxRepository } from './outbox-repository.js'
import { createPool, type PostgresStoreOptions } from './pool.js'
import { createTaskRepository } from './task-repository.js'

export interface PostgresStore extends Store {
  readonly cluster: ClusterCoordination
  readonly media: MediaStore
  /** Applies pending migrations (what `open` does first); for `gantry migrate`. */
  migrate(): Promise<void>
}

/**
 * The PostgreSQL store: every record a row in `schema`, every multi-record
 * change one transaction. Several nodes may share one database; wallets are
 * locked row by row, so no interleaving of them overdraws one.
 *
 * @example
 * const store = createPostgresStore('postgres://localhost/gantry', { schema: 'gantry' })
 * await store.open()
 */
export function createPostgresStore(url: string, opts: PostgresStoreOptions = {}): PostgresStore {
  const schema = opts.schema ?? 'gantry'
  const pool = createPool(url, { poolSize: opts.poolSize ?? 10, schema })
  let ended = false
  const damage = createDamageReport(opts.log)
  const cluster = createCoordination(pool, { url, schema, leaseMs: opts.leaseMs ?? 30_000, log: opts.log })
  return {
    kind: 'postgres',
    cluster,
    logs: createLogRepository(pool),
    tasks: createTaskRepository(pool, damage),
    idempotency: createIdempotencyRepository(pool),
    outbox: createOutboxRepository(pool),
    ledger: createLedgerRepository(pool),
    jobs: createJobRepository(pool, damage),
    media: createPostgresMediaStore(pool),
    migrate: () => migrate(pool, schema),
    damage: damage.snapshot,
    async open() {
      await migrate(pool, schema)
    },
    async close() {
      if (ended) return
      ended = true
      await cluster.stop()
      await pool.end()
    },
  }
}
