import { Hono } from 'hono'
import type { DefinitionSet } from '../../definitions/types.js'
import { GantryError } from '../../errors.js'
import type { Store } from '../../model/store.js'
import type { ProviderCatalog } from '../../run/providers.js'
import type { Scheduler } from '../../run/scheduler.js'
import type { Sweeper } from '../../sweeps/sweeper.js'
import type { AppEnv } from '../env.js'
import { pageLimit } from '../query.js'

export interface AdminRoutesDeps {
  definitions(): DefinitionSet
  scheduler: Scheduler
  store: Store
  sweeper: Sweeper
  providers: ProviderCatalog
}

/** Asks a backend, bounded in time: an operator's page must not hang on a slow one. */
async function askBackend<T>(
  ask: () => Promise<T>,
  timeoutMs = 5000,
): Promise<{ value?: T; error?: string }> {
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    return { value: await Promise.race([ask(), timeout]) }
  } catch (err) {
    return { error: (err as Error).message }
  } finally {
    clearTimeout(timer)
  }
}

/** Routes for operators; mounted behind requireAuth and requireAdmin. */
export function adminRoutes(deps: AdminRoutesDeps) {
  /** Running and queued per executor: this process's scheduler, or in a cluster the shared queue. */
  async function loadOf(): Promise<(id: string) => { running: number; queued: number }> {
    const cluster = deps.store.cluster
    if (!cluster) {
      return (id) => {
        const load = deps.scheduler.stats(id)
        return { running: load.running, queued: load.waiting }
      }
    }
    const [running, queued] = await Promise.all([cluster.slots.counts(), cluster.queue.depth()])
    return (id) => ({ running: running.get(id) ?? 0, queued: queued.get(id) ?? 0 })
  }
  const executorStatus = (id: string, load: (id: string) => { running: number; queued: number }) => {
    const executor = deps.definitions().executors.get(id)
    if (!executor) throw new GantryError('NOT_FOUND', `executor '${id}' not found`)
    return {
      executorId: id,
      provider: executor.provider,
      maxConcurrency: executor.maxConcurrency,
      ...load(id),
      configured: !executor.notConfigured,
      ...(executor.notConfigured ? { notConfigured: executor.notConfigured } : {}),
    }
  }
  const inspectorOf = (id: string) => {
    const executor = deps.definitions().executors.get(id)
    if (!executor) throw new GantryError('NOT_FOUND', `executor '${id}' not found`)
    return { executor, inspect: deps.providers.get(executor.provider)?.provider.inspect }
  }
  // model lists change rarely and cost the backend a scan: kept a minute unless refreshed
  const modelCache = new Map<string, { at: number; models: Record<string, string[]> }>()

  return (
    new Hono<AppEnv>()
      .get('/abilities/:id/logs', async (c) => {
        const page = await deps.store.logs.list({
          abilityId: c.req.param('id'),
          limit: pageLimit(c.req.query('limit')),
          cursor: c.req.query('cursor'),
        })
        return c.json(page)
      })
      .get('/logs/:logId', async (c) => {
        const log = await deps.store.logs.get(c.req.param('logId'))
        if (!log) throw new GantryError('NOT_FOUND', `log '${c.req.param('logId')}' not found`)
        return c.json(log)
      })
      .get('/executors', async (c) => {
        const load = await loadOf()
        return c.json({
          items: [...deps.definitions().executors.keys()].map((id) => executorStatus(id, load)),
        })
      })
      .get('/executors/:id/queue-status', async (c) => {
        const status = executorStatus(c.req.param('id'), await loadOf())
        const { executor, inspect } = inspectorOf(c.req.param('id'))
        if (!inspect?.queue) return c.json(status)
        const backend = await askBackend(() => inspect.queue!(executor.config))
        return c.json({
          ...status,
          backend: backend.value ?? null,
          ...(backend.error ? { backendError: backend.error } : {}),
        })
      })
      .get('/executors/:id/models', async (c) => {
        const { executor, inspect } = inspectorOf(c.req.param('id'))
        if (!inspect?.models)
          throw new GantryError('NOT_FOUND', `provider '${executor.provider}' lists no models`)
        const cached = modelCache.get(executor.id)
        if (cached && c.req.query('refresh') !== 'true' && Date.now() - cached.at < 60_000) {
          return c.json({
            executorId: executor.id,
            models: cached.models,
            cachedAt: new Date(cached.at).toISOString(),
          })
        }
        const answer = await askBackend(() => inspect.models!(executor.config))
        if (!answer.value) throw new GantryError('PROVIDER_ERROR', `could not list models: ${answer.error}`)
        modelCache.set(executor.id, { at: Date.now(), models: answer.value })
        return c.json({ executorId: executor.id, models: answer.value, cachedAt: new Date().toISOString() })
      })
      .post('/sweep', async (c) => c.json(await deps.sweeper.runAll()))
      // what this start skipped or set aside in the store (a bad journal line, a record missing fields)
      .get('/store/damage', (c) => c.json(deps.store.damage?.() ?? { unreadableLines: 0, quarantined: [] }))
      .get('/definitions/errors', (c) => {
        const items = deps
          .definitions()
          .errors.map((e) => ({ ...e, location: `${e.file}:${e.line}:${e.col}` }))
        return c.json({ items })
      })
  )
}
