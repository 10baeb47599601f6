/**
 * Builds a Gantry from its config: store, providers, definitions, pool,
 * scheduler, bus and HTTP. `start()` listens; `stop()` drains and flushes.
 */
import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { loadDataSecrets } from './auth/data-secrets.js'
import { signToken } from './auth/jwt.js'
import type { Config } from './config.js'
import { createDefinitionLoader, type DefinitionLoader } from './definitions/loader.js'
import { GantryError } from './errors.js'
import { createEventBus } from './events/bus.js'
import { createApp } from './http/app.js'
import { createLogger, type Logger } from './logger.js'
import { createGantryMetrics } from './metrics/gantry-metrics.js'
import { createWorkerPool } from './run/pool.js'
import { loadProviders } from './run/providers.js'
import { Scheduler } from './run/scheduler.js'
import { createLowdbStore } from './store/lowdb/index.js'
import type { Store } from './store/types.js'

export interface Gantry {
  readonly config: Config
  readonly app: ReturnType<typeof createApp>
  readonly store: Store
  readonly definitions: DefinitionLoader
  /** The URL it listens on, once started. */
  url?: string
  /** A dev admin token, when the JWT secret was generated into the data dir. */
  devAdminToken?: string
  start(): Promise<void>
  stop(): Promise<void>
}

export async function createGantry(
  config: Config,
  log: Logger = createLogger(config.logLevel),
): Promise<Gantry> {
  if (config.store !== 'lowdb') {
    throw new GantryError(
      'CONFIG_INVALID',
      'GANTRY_STORE=postgres:// is not available in this version; use lowdb',
    )
  }
  const store = createLowdbStore(config.dataDir)
  await store.open()
  const secrets = loadDataSecrets(config.dataDir)
  const jwt = {
    secret: config.jwtSecret ?? secrets.jwtSecret,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  }

  const scheduler = new Scheduler()
  const bus = createEventBus((type, err) => log('warn', `event listener failed on ${type}`, { err }))
  let providers: Awaited<ReturnType<typeof loadProviders>>
  let definitions: DefinitionLoader
  try {
    providers = await loadProviders(config.plugins)
    definitions = createDefinitionLoader({
      dirs: [config.abilitiesDir, config.workflowsDir],
      providers: providers.infos(),
      log,
      onReload: (set) => {
        for (const executor of set.executors.values())
          scheduler.setLimit(executor.id, executor.maxConcurrency)
        bus.emit('definitions.reloaded', {
          version: set.version,
          abilities: set.abilities.size,
          executors: set.executors.size,
          workflows: set.workflows.size,
          errors: set.errors.length,
        })
      },
    })
  } catch (err) {
    await store.close()
    throw err
  }
  const initial = await definitions.load()

  const pool = createWorkerPool({ maxWorkers: config.maxWorkers, callsPerWorker: config.callsPerWorker })
  const metrics = createGantryMetrics(bus, () =>
    [...definitions.current().executors.keys()].map((id) => ({ executorId: id, ...scheduler.stats(id) })),
  )
  let shuttingDown = false
  const app = createApp({
    definitions: () => definitions.current(),
    providers,
    runner: { scheduler, pool, store, bus },
    scheduler,
    store,
    jwt,
    metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    isShuttingDown: () => shuttingDown,
    logError: (err) => log('error', 'request failed', { err }),
  })

  let server: ServerType | undefined
  const gantry: Gantry = {
    config,
    app,
    store,
    definitions,
    devAdminToken: config.jwtSecret
      ? undefined
      : signToken({ sub: 'admin', role: 'admin' }, { ...jwt, ttlSeconds: 30 * 24 * 3600 }),
    async start() {
      await new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve())
      })
      const address = server!.address() as AddressInfo
      gantry.url = `http://${config.host}:${address.port}`
      definitions.watch()
      log('info', `gantry listening on ${gantry.url}`, {
        abilities: initial.abilities.size,
        executors: initial.executors.size,
        workflows: initial.workflows.size,
        workers: config.maxWorkers,
      })
    },
    async stop() {
      if (shuttingDown) return
      shuttingDown = true
      // stop taking new connections; running calls get the grace period to finish
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      // idle keep-alive connections would hold close() open until they time out
      const http = server as { closeIdleConnections?: () => void } | undefined
      http?.closeIdleConnections?.()
      const idleSweep = setInterval(() => http?.closeIdleConnections?.(), 100)
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref())
      await Promise.race([closed, grace])
      clearInterval(idleSweep)
      ;(server as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.()
      scheduler.rejectWaiting(new GantryError('SHUTTING_DOWN', 'gantry is shutting down'))
      await definitions.close()
      await pool.destroy()
      await store.close()
      log('info', 'gantry stopped')
    },
  }
  return gantry
}
