import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { Store } from '../model/store.js'
import { createLowdbStore } from './lowdb/index.js'

/** The store GANTRY_STORE names, opened: the embedded one, or PostgreSQL for a `postgres://` URL. */
export async function openStore(
  config: Config,
  log?: Logger,
): Promise<Store & { compact?(): Promise<{ dropped: number }> }> {
  if (config.store === 'lowdb') {
    const store = createLowdbStore(config.dataDir, {
      durability: config.durability,
      log,
      lock: { waitMs: config.lockWaitMs },
    })
    await store.open()
    return store
  }
  // loaded only when asked for, so the embedded default never loads the driver
  const { createPostgresStore } = await import('./postgres/index.js')
  const store = createPostgresStore(config.store, {
    poolSize: config.pgPoolSize,
    schema: config.pgSchema,
    leaseMs: config.leaseMs,
    log,
  })
  await store.open()
  return store
}
