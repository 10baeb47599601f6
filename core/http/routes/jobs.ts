import { Hono } from 'hono'
import { assertCallbackAllowed } from '../../callbacks/ssrf.js'
import { GantryError } from '../../errors.js'
import { refuseMediaRefs } from '../../media/input-refs.js'
import type { Caller } from '../../model/call.js'
import type { WorkflowJob } from '../../model/job.js'
import type { Store } from '../../model/store.js'
import { InFlightKeys, readIdempotencyKey } from '../../tasks/idempotency.js'
import type { WorkflowEngine } from '../../workflows/engine.js'
import { viewJob } from '../../workflows/job-view.js'
import type { AppEnv } from '../env.js'
import { idempotent } from '../idempotent.js'
import { validateJobStart } from '../payload-schemas.js'
import { pageLimit } from '../query.js'
import { readBody } from '../read-body.js'

export interface JobRoutesDeps {
  store: Store
  workflows: WorkflowEngine
  allowPrivateCallbacks: boolean
}

interface JobStartBody {
  projectId?: string
  params?: Record<string, unknown>
  callbackUrl?: string
  callbackHeaders?: Record<string, string>
}

/** `POST /api/workflows/:id/jobs` and `/api/workflow-jobs`: start, get, list, consume, cancel, retry. */
export function jobRoutes(deps: JobRoutesDeps) {
  const inFlight = new InFlightKeys()

  const view = async (job: WorkflowJob) => viewJob(job, await deps.workflows.tasksOf(job))

  async function ownJob(caller: Caller, id: string): Promise<WorkflowJob> {
    const job = await deps.store.jobs.get(id)
    if (!job || (caller.role !== 'admin' && job.userId !== caller.id)) {
      throw new GantryError('NOT_FOUND', `workflow job '${id}' not found`)
    }
    return job
  }

  const start = new Hono<AppEnv>().post('/:id/jobs', async (c) => {
    const key = readIdempotencyKey(c.req.header('idempotency-key'))
    const body = await readBody<JobStartBody>(c, validateJobStart)
    const caller = c.get('caller')
    const { projectId, params, callbackUrl, callbackHeaders } = body
    if (callbackUrl !== undefined) await assertCallbackAllowed(callbackUrl, deps.allowPrivateCallbacks)
    // only Gantry writes media references; params reach step inputs
    refuseMediaRefs(params, 'params')
    const input = { caller, workflowId: c.req.param('id'), projectId, params, callbackUrl, callbackHeaders }
    const answer = (job: WorkflowJob) => view(job).then((shown) => c.json({ jobId: job.id, job: shown }, 202))
    const job = await idempotent({
      c,
      inFlight,
      store: deps.store,
      userId: caller.id,
      key,
      route: `POST /api/workflows/${input.workflowId}/jobs`,
      body,
      async replay(seen) {
        const first = seen.jobId ? await deps.store.jobs.get(seen.jobId) : undefined
        if (!first) throw new GantryError('NOT_FOUND', 'the job this Idempotency-Key created is gone')
        return first
      },
      create: async (record) => (await deps.workflows.start(input, record)).job,
    })
    return answer(job)
  })

  const jobs = new Hono<AppEnv>()
    .get('/', async (c) => {
      const caller = c.get('caller')
      const page = await deps.store.jobs.list({
        userId: caller.role === 'admin' ? c.req.query('userId') : caller.id,
        projectId: c.req.query('projectId'),
        active: c.req.query('active') === 'true',
        limit: pageLimit(c.req.query('limit')),
        cursor: c.req.query('cursor'),
      })
      const items = await Promise.all(page.items.map(view))
      return c.json(page.nextCursor ? { items, nextCursor: page.nextCursor } : { items })
    })
    .get('/:id', async (c) => c.json(await view(await ownJob(c.get('caller'), c.req.param('id')))))
    .post('/:id/consume', async (c) =>
      c.json(await view(await deps.workflows.consume(await ownJob(c.get('caller'), c.req.param('id'))))),
    )
    .post('/:id/cancel', async (c) =>
      c.json(await view(await deps.workflows.cancel(await ownJob(c.get('caller'), c.req.param('id'))))),
    )
    .post('/:id/retry', async (c) =>
      c.json(await view(await deps.workflows.retry(await ownJob(c.get('caller'), c.req.param('id'))))),
    )

  return { start, jobs }
}
