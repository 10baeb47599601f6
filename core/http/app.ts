import { Hono } from 'hono'
import type { JwtOptions } from '../auth/jwt.js'
import { GantryError } from '../errors.js'
import { requireAdmin, requireAuth } from './auth.js'
import { limitBody } from './body-limit.js'
import type { AppEnv } from './env.js'
import { errorResponse } from './errors.js'
import { type AbilityRoutesDeps, abilityInvokeRoutes, abilityListRoutes } from './routes/abilities.js'
import { type AdminRoutesDeps, adminRoutes } from './routes/admin.js'
import { consoleRoutes } from './routes/console.js'
import { type CreditRoutesDeps, creditRoutes } from './routes/credits.js'
import { type JobRoutesDeps, jobRoutes } from './routes/jobs.js'
import { type MediaRoutesDeps, mediaRoutes } from './routes/media.js'
import { type NotifyRoutesDeps, notifyRoutes } from './routes/notify.js'
import { type TaskRoutesDeps, taskRoutes } from './routes/tasks.js'
import { workflowListRoutes } from './routes/workflows.js'
import { refuseUnstorableUrl } from './url-check.js'

export interface AppDeps
  extends AbilityRoutesDeps,
    AdminRoutesDeps,
    TaskRoutesDeps,
    CreditRoutesDeps,
    JobRoutesDeps,
    MediaRoutesDeps {
  jwt: JwtOptions
  notify: NotifyRoutesDeps
  bodyLimitBytes: number
  metrics: { render(): string }
  isShuttingDown(): boolean
  logError(err: unknown): void
}

/** The HTTP API (README, HTTP API). */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>()
  const auth = requireAuth(deps.jwt)

  app.onError((err, c) => errorResponse(c, err, deps.logError))
  app.notFound((c) =>
    errorResponse(c, new GantryError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)),
  )

  app.use('/api/*', limitBody(deps.bodyLimitBytes))
  app.use('*', refuseUnstorableUrl)

  app.get('/healthz', (c) =>
    deps.isShuttingDown()
      ? c.json({ status: 'shutting-down' }, 503)
      : c.json({ status: 'ok', definitions: deps.definitions().version }),
  )
  // ready to take work: not shutting down, and the store takes writes (a full disk answers 503 until it does)
  app.get('/readyz', (c) => {
    if (deps.isShuttingDown()) {
      return c.json(
        { status: 'shutting-down', error: { code: 'SHUTTING_DOWN', message: 'gantry is shutting down' } },
        503,
      )
    }
    const store = deps.store.availability?.() ?? { writable: true }
    if (!store.writable) {
      const message = `the store cannot write (${store.reason})`
      return c.json({ status: 'unavailable', error: { code: 'STORE_UNAVAILABLE', message } }, 503)
    }
    return c.json({ status: 'ready' })
  })
  app.get('/metrics', (c) =>
    c.text(deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }),
  )

  app.route('/media', mediaRoutes(deps))
  app.route('/console', consoleRoutes())
  app.route('/api/abilities', abilityListRoutes(deps))
  const jobs = jobRoutes(deps)
  app.use('/api/workflows/:id/jobs', auth)
  app.route('/api/workflows', jobs.start)
  app.route('/api/workflows', workflowListRoutes(deps.definitions))
  app.use('/api/workflow-jobs', auth)
  app.use('/api/workflow-jobs/*', auth)
  app.route('/api/workflow-jobs', jobs.jobs)

  app.use('/api/abilities/:id/invoke', auth)
  app.route('/api/abilities', abilityInvokeRoutes(deps))

  app.use('/api/ability-tasks/*', auth)
  app.use('/api/ability-tasks', auth)
  app.route('/api/ability-tasks', taskRoutes(deps))

  app.route('/api/notify/v1', notifyRoutes(deps.notify))

  app.use('/api/credits/*', auth)
  app.use('/api/wallet', auth)
  app.use('/api/wallet/*', auth)
  app.use('/api/admin/*', auth, requireAdmin)
  app.route('/api', creditRoutes(deps))
  app.route('/api/admin', adminRoutes(deps))

  // every other /api route needs a token, so that an unknown route does not tell an anonymous caller it exists
  app.use('/api/*', auth)
  return app
}
