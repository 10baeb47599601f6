/**
 * Builds a Gantry from its config: store, providers, definitions, pool,
 * scheduler, tasks, callbacks, sweeps, bus and HTTP. `start()` recovers
 * unfinished tasks and listens; `stop()` drains and flushes.
 */
import { setMaxListeners } from 'node:events'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { type ServerType, serve } from '@hono/node-server'
import { signToken } from './auth/jwt.js'
import { resolveSecrets } from './auth/secrets.js'
import { createCallbackDispatcher } from './callbacks/dispatcher.js'
import { type ClusterNode, createClusterNode } from './cluster/cluster-node.js'
import { clusterSlots } from './cluster/cluster-slots.js'
import type { Config } from './config.js'
import { createDefinitionLoader, type DefinitionLoader } from './definitions/loader.js'
import { GantryError } from './errors.js'
import { createEventBus, type EventBus } from './events/bus.js'
import { createHookRunner } from './events/plugin-hooks.js'
import { createApp } from './http/app.js'
import { createTicketStore } from './http/tickets.js'
import { createLogger, type Logger } from './logger.js'
import { createMediaCustody } from './media/custody.js'
import { createInputOffload } from './media/offload-inputs.js'
import { withOlderMedia } from './media/older-media.js'
import { createMediaLinks } from './media/signed-link.js'
import { createGantryMetrics } from './metrics/gantry-metrics.js'
import type { Store } from './model/store.js'
import { ENDED } from './model/task.js'
import { createClusterNotifier } from './notify/cluster-notifier.js'
import { createNotifier, REPLAY_MAX_AGE_MS } from './notify/notifier.js'
import { createWorkerPool } from './run/pool.js'
import { loadProviders, type ProviderCatalog } from './run/providers.js'
import type { CallRunnerDeps } from './run/run-call.js'
import { Scheduler } from './run/scheduler.js'
import type { DataSecrets } from './store/data-dir/data-secrets.js'
import { createFileMediaStore } from './store/data-dir/media-store.js'
import { openStore } from './store/open-store.js'
import { createSweeper, type Sweeper } from './sweeps/sweeper.js'
import { createTaskRunner, type TaskRunner } from './tasks/task-runner.js'
import { createWorkflowEngine, type WorkflowEngine } from './workflows/engine.js'

export interface Gantry {
  readonly config: Config
  readonly app: ReturnType<typeof createApp>
  readonly store: Store & { compact?(): Promise<{ dropped: number }> }
  readonly definitions: DefinitionLoader
  readonly tasks: TaskRunner
  readonly workflows: WorkflowEngine
  readonly providers: ProviderCatalog
  /** What a call needs to run: for in-process callers (benchmarks) beside the HTTP API. */
  readonly runner: CallRunnerDeps
  readonly sweeper: Sweeper
  readonly bus: EventBus
  /** The URL it listens on, once started. */
  url?: string
  /** A dev admin token, when the JWT secret was generated into the data dir. */
  devAdminToken?: string
  /** Resumes unfinished tasks, starts callbacks and sweeps, and listens. */
  start(opts?: { listen?: boolean }): Promise<void>
  stop(): Promise<void>
}

export async function createGantry(
  config: Config,
  log: Logger = createLogger(config.logLevel),
): Promise<Gantry> {
  const store = await openStore(config, log)
  // several nodes share a PostgreSQL store: tasks are claimed from its queue, events go through it
  const cluster = store.cluster
  let secrets: DataSecrets
  try {
    secrets = await resolveSecrets(config, cluster)
  } catch (err) {
    await store.close()
    throw err
  }
  const jwt = {
    secret: secrets.jwtSecret,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  }

  const scheduler = new Scheduler()
  const bus = createEventBus((type, err) => log('warn', `event listener failed on ${type}`, { err }))
  let providers: ProviderCatalog
  let definitions: DefinitionLoader
  try {
    providers = await loadProviders(config.plugins)
    definitions = createDefinitionLoader({
      dirs: [config.abilitiesDir, config.workflowsDir],
      providers: providers.infos(),
      maxFileBytes: config.maxDefinitionBytes,
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
    await definitions.load()
  } catch (err) {
    await store.close()
    throw err
  }
  const currentDefinitions = () => definitions.current()

  const pool = createWorkerPool({
    maxWorkers: config.maxWorkers,
    callsPerWorker: config.callsPerWorker,
    onError: (err) => log('error', 'worker thread failed', { err }),
  })
  // on PostgreSQL the media are rows, so a link made by one node works on every node
  const mediaFiles = createFileMediaStore(join(config.dataDir, 'media'))
  const mediaStore = store.media ? withOlderMedia(store.media, mediaFiles) : mediaFiles
  const mediaLinks = createMediaLinks(`${jwt.secret}:media`, Math.floor(config.retentionMs / 1000))
  const media = createMediaCustody({
    store: mediaStore,
    links: mediaLinks,
    maxBytes: config.mediaMaxBytes,
    allowPrivate: config.allowPrivateCallbacks,
    log,
  })
  // in a cluster only the leader delivers callbacks; the others tell it one was queued
  const deliveryQueued = () => (node ? node.deliveryQueued() : callbacks.kick())
  const callbacks = createCallbackDispatcher({
    outbox: store.outbox,
    secret: secrets.webhookSecret,
    allowPrivate: config.allowPrivateCallbacks,
    policy: { maxAttempts: config.callbackMaxAttempts, baseDelayMs: config.callbackBackoffMs },
    log,
  })
  const hooks = createHookRunner(providers.hooks, log)
  let node: ClusterNode | undefined
  let tasks: TaskRunner
  // a sync call in a cluster takes a lease counted with every node's calls; a freed one lets tasks be claimed
  const slots = cluster ? clusterSlots(scheduler, cluster.slots, () => tasks.wake()) : scheduler
  tasks = createTaskRunner({
    scheduler: slots,
    cluster,
    claimPollMs: config.claimPollMs,
    pool,
    store,
    bus,
    media,
    // references to stored inputs are signed, so only those Gantry wrote are ever resolved
    inputMedia: createInputOffload({ store: mediaStore, secret: `${jwt.secret}:media-inputs` }),
    providers,
    hooks,
    definitions: currentDefinitions,
    onDeliveryQueued: deliveryQueued,
    log,
  })
  const workflows = createWorkflowEngine({
    store,
    tasks,
    bus,
    definitions: currentDefinitions,
    onDeliveryQueued: deliveryQueued,
    log,
    maxFanout: config.maxFanout,
    lock: cluster ? (key, work) => cluster.withLock(key, work) : undefined,
  })
  bus.on('ability-task.status', ({ task }) => {
    if (task.job && ENDED.has(task.status)) workflows.onTaskEnded(task)
  })
  const sweeper = createSweeper({
    store,
    media: mediaStore,
    tasks,
    definitions: currentDefinitions,
    log,
    options: {
      // in a cluster a running task is watched by its lease, not by whether this process runs it
      watchRunning: !cluster,
      queueTimeoutMs: config.queueTimeoutMs,
      retentionMs: config.retentionMs,
      timeoutSchedule: config.sweepTimeoutsCron,
      retentionSchedule: config.sweepRetentionCron,
    },
  })
  const clusterNotifier = cluster ? createClusterNotifier({ events: cluster.events, log }) : undefined
  const notifier = clusterNotifier ?? createNotifier({ dataDir: config.dataDir, log })
  await notifier.open()
  if (cluster && clusterNotifier) {
    node = createClusterNode({
      coordination: cluster,
      tasks,
      resumeJobs: () => workflows.recover(),
      reconcileHolds: () => sweeper.reconcileHolds(),
      notifier: clusterNotifier,
      callbacks,
      sweeper,
      eventMaxAgeMs: REPLAY_MAX_AGE_MS,
      log,
    })
  }
  notifier.attach(bus)
  const shutdownSignal = new AbortController()
  // every open SSE stream listens for the shutdown
  setMaxListeners(0, shutdownSignal.signal)
  hooks.attach(bus)
  const metrics = createGantryMetrics(
    bus,
    () =>
      [...definitions.current().executors.keys()].map((id) => ({ executorId: id, ...scheduler.stats(id) })),
    () => store.damage?.(),
  )
  let shuttingDown = false
  const runner: CallRunnerDeps = { scheduler: slots, pool, store, bus, media, log }
  const app = createApp({
    definitions: currentDefinitions,
    providers,
    runner,
    mediaStore,
    mediaLinks,
    scheduler,
    store,
    tasks,
    workflows,
    sweeper,
    bus,
    hooks,
    notify: { notifier, tickets: createTicketStore(), jwt, log, shutdown: shutdownSignal.signal },
    jwt,
    metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    queueCallback: async (delivery) => {
      await store.outbox.update(delivery)
      deliveryQueued()
    },
    isShuttingDown: () => shuttingDown,
    logError: (err) => log('error', 'request failed', { err }),
  })

  let server: ServerType | undefined
  const gantry: Gantry = {
    config,
    app,
    store,
    definitions,
    tasks,
    workflows,
    providers,
    runner,
    sweeper,
    bus,
    devAdminToken: config.jwtSecret
      ? undefined
      : signToken({ sub: 'admin', role: 'admin' }, { ...jwt, ttlSeconds: 30 * 24 * 3600 }),
    async start(opts = {}) {
      if (node) {
        // other nodes may be running: what they hold is theirs; the leader sweeps and delivers
        await node.start()
        await tasks.recover()
      } else {
        // what is past retention goes before anything is served, so it never shows again after a restart
        await sweeper.sweepRetention()
        await sweeper.reconcileHolds(true)
        const recovered = await tasks.recover()
        if (Object.values(recovered).some((n) => n > 0)) log('info', 'tasks recovered', recovered)
      }
      const jobsResumed = await workflows.recover()
      if (jobsResumed) log('info', 'workflow jobs resumed', { jobs: jobsResumed })
      if (!node) {
        callbacks.start()
        sweeper.start()
      }
      definitions.watch()
      if (opts.listen === false) return
      await new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve())
      })
      const address = server!.address() as AddressInfo
      gantry.url = `http://${config.host}:${address.port}`
      const set = definitions.current()
      log('info', `gantry listening on ${gantry.url}`, {
        abilities: set.abilities.size,
        executors: set.executors.size,
        workflows: set.workflows.size,
        workers: config.maxWorkers,
      })
    },
    async stop() {
      if (shuttingDown) return
      shuttingDown = true
      shutdownSignal.abort()
      await closeServer(server, config.shutdownGraceMs)
      sweeper.stop()
      // running tasks get the grace period; the rest stay in the store for the next start
      await tasks.stop(config.shutdownGraceMs)
      await node?.stop()
      scheduler.rejectWaiting(new GantryError('SHUTTING_DOWN', 'gantry is shutting down'))
      await callbacks.stop()
      await definitions.close()
      await pool.destroy()
      await notifier.close()
      await store.close()
      log('info', 'gantry stopped')
    },
  }
  return gantry
}

/** Stops taking connections; requests under way get the grace period to finish. */
async function closeServer(server: ServerType | undefined, graceMs: number) {
  if (!server) return
  const http = server as ServerType & { closeIdleConnections?(): void; closeAllConnections?(): void }
  const closed = new Promise<void>((resolve) => http.close(() => resolve()))
  // idle keep-alive connections would hold close() open until they time out
  http.closeIdleConnections?.()
  const idleSweep = setInterval(() => http.closeIdleConnections?.(), 100)
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, graceMs).unref())])
  clearInterval(idleSweep)
  http.closeAllConnections?.()
}
