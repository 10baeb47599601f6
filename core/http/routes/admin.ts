import { Hono } from 'hono'
import type { DefinitionSet } from '../../definitions/types.js'
import { GantryError } from '../../errors.js'
import type { Scheduler } from '../../run/scheduler.js'
import type { Store } from '../../store/types.js'
import type { Sweeper } from '../../sweeps/sweeper.js'
import type { AppEnv } from '../env.js'
import { pageLimit } from '../query.js'

export interface AdminRoutesDeps {
  definitions(): DefinitionSet
  scheduler: Scheduler
  store: Store
  sweeper: Sweeper
}

/** Routes for operators; mounted behind requireAuth and requireAdmin. */
export function adminRoutes(deps: AdminRoutesDeps) {
  const executorStatus = (id: string) => {
    const executor = deps.definitions().executors.get(id)
    if (!executor) throw new GantryError('NOT_FOUND', `executor '${id}' not found`)
    const load = deps.scheduler.stats(id)
    return {
      executorId: id,
      provider: executor.provider,
      maxConcurrency: executor.maxConcurrency,
      running: load.running,
      queued: load.waiting,
      configured: !executor.notConfigured,
      ...(executor.notConfigured ? { notConfigured: executor.notConfigured } : {}),
    }
  }
  return new Hono<AppEnv>()
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
    .get('/executors', (c) => c.json({ items: [...deps.definitions().executors.keys()].map(executorStatus) }))
    .get('/executors/:id/queue-status', (c) => c.json(executorStatus(c.req.param('id'))))
    .post('/sweep', async (c) => c.json(await deps.sweeper.runAll()))
    .get('/definitions/errors', (c) => {
      const items = deps.definitions().errors.map((e) => ({ ...e, location: `${e.file}:${e.line}:${e.col}` }))
      return c.json({ items })
    })
}
