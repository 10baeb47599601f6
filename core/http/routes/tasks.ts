import { Hono } from 'hono'
import { assertCallbackAllowed } from '../../callbacks/ssrf.js'
import { GantryError } from '../../errors.js'
import type { AbilityInvokePayload, Caller } from '../../model/call.js'
import type { Store } from '../../model/store.js'
import type { AbilityTask, TaskStatus } from '../../model/task.js'
import { InFlightKeys, readIdempotencyKey } from '../../tasks/idempotency.js'
import { parsePriority } from '../../tasks/priority.js'
import type { NewTask, TaskRunner } from '../../tasks/task-runner.js'
import { viewTask } from '../../tasks/task-view.js'
import type { AppEnv } from '../env.js'
import { idempotent } from '../idempotent.js'
import { validateTaskBody } from '../payload-schemas.js'
import { pageLimit } from '../query.js'
import { readBody } from '../read-body.js'

export interface TaskRoutesDeps {
  store: Store
  tasks: TaskRunner
  allowPrivateCallbacks: boolean
}

interface TaskBody extends AbilityInvokePayload {
  abilityId: string
  priority?: string | number
}

const STATUSES = new Set<TaskStatus>(['queued', 'running', 'succeeded', 'failed', 'canceled'])
const ROUTE = 'POST /api/ability-tasks'

/** `/api/ability-tasks`: submit (202), get, list, cancel. A user sees only its own tasks. */
export function taskRoutes(deps: TaskRoutesDeps) {
  const inFlight = new InFlightKeys()

  async function view(task: AbilityTask) {
    const delivery = task.callback ? await deps.store.outbox.get(task.callback.deliveryId) : undefined
    const shown = viewTask(task, delivery)
    const live = task.status === 'running' ? deps.tasks.progressOf(task.id) : undefined
    return live
      ? { ...shown, progress: live.percent, stage: live.stage ?? null, eta: live.eta ?? null }
      : shown
  }

  async function ownTask(caller: Caller, id: string): Promise<AbilityTask> {
    const task = await deps.store.tasks.get(id)
    // another user's task is answered as missing, so ids do not leak
    if (!task || (caller.role !== 'admin' && task.userId !== caller.id)) {
      throw new GantryError('NOT_FOUND', `task '${id}' not found`)
    }
    return task
  }

  /** Checks a new task (the plugins' beforeInvoke hooks may refuse it or add metadata) and its callback URL. */
  async function prepare(newTask: NewTask) {
    const { task } = await deps.tasks.prepare(newTask)
    if (task.payload.callbackUrl)
      await assertCallbackAllowed(task.payload.callbackUrl, deps.allowPrivateCallbacks)
    return task
  }

  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const key = readIdempotencyKey(c.req.header('idempotency-key'))
      const body = await readBody<TaskBody>(c, validateTaskBody)
      const caller = c.get('caller')
      const { abilityId, priority, ...payload } = body
      const newTask = { caller, abilityId, payload, priority: parsePriority(priority) }
      const task = await idempotent({
        c,
        inFlight,
        store: deps.store,
        userId: caller.id,
        key,
        route: ROUTE,
        body,
        async replay(seen) {
          const first = seen.taskId ? await deps.store.tasks.get(seen.taskId) : undefined
          if (!first) throw new GantryError('NOT_FOUND', 'the task this Idempotency-Key created is gone')
          return first
        },
        async create(record) {
          const created = await prepare(newTask)
          return deps.tasks.accept(created, record && { ...record, taskId: created.id })
        },
      })
      return c.json(await view(task), 202)
    })
    .get('/', async (c) => {
      const caller = c.get('caller')
      const status = c.req.query('status') as TaskStatus | undefined
      if (status && !STATUSES.has(status)) {
        throw new GantryError('VALIDATION_FAILED', `status must be one of ${[...STATUSES].join(', ')}`)
      }
      const page = await deps.store.tasks.list({
        userId: caller.role === 'admin' ? c.req.query('userId') : caller.id,
        status,
        abilityId: c.req.query('abilityId'),
        limit: pageLimit(c.req.query('limit')),
        cursor: c.req.query('cursor'),
      })
      const items = await Promise.all(page.items.map(view))
      return c.json(page.nextCursor ? { items, nextCursor: page.nextCursor } : { items })
    })
    .get('/:id', async (c) => c.json(await view(await ownTask(c.get('caller'), c.req.param('id')))))
    .post('/:id/cancel', async (c) => {
      const task = await ownTask(c.get('caller'), c.req.param('id'))
      return c.json(await view(await deps.tasks.cancel(task)))
    })
}
