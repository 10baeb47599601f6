/**
 * The workflow engine: a job is a plan of steps; each step (each `forEach`
 * item) runs as an ability task in the same queue, so concurrency, timeouts,
 * retries, credits, logs and events all apply. The job's state is stored and
 * advanced whenever one of its tasks ends; after a restart a job picks up
 * from its stored steps and never re-runs one that succeeded.
 */
import { randomUUID } from 'node:crypto'
import type { DefinitionSet } from '../definitions/types.js'
import { coerceError, GantryError } from '../errors.js'
import type { EventBus } from '../events/bus.js'
import type { Logger } from '../logger.js'
import type { Caller } from '../model/call.js'
import type { CallbackDelivery } from '../model/callback.js'
import type { IdempotencyRecord } from '../model/idempotency.js'
import { JOB_ENDED, STEP_SETTLED, type StepState, type WorkflowJob } from '../model/job.js'
import type { Store } from '../model/store.js'
import type { AbilityTask } from '../model/task.js'
import type { TaskRunner } from '../tasks/task-runner.js'
import {
  blockingFailure,
  callbackFor,
  planOf,
  progressOf,
  scopeOf,
  signatureOf,
  summaryOf,
} from './job-state.js'
import { loadOutputs, stepsReadBy, taskIdsOf, upgradeJob } from './step-output.js'
import { fanOutError, settleStep, startStep, stopSteps } from './steps.js'
import { isTruthy, references, render } from './template.js'

export interface StartJob {
  caller: Caller
  workflowId: string
  projectId?: string
  params: unknown
  callbackUrl?: string
  callbackHeaders?: Record<string, string>
}

export interface WorkflowEngineDeps {
  store: Store
  tasks: TaskRunner
  bus: EventBus
  definitions(): DefinitionSet
  onDeliveryQueued?(): void
  log: Logger
  /** Most items of a `forEach` whose step sets no `maxItems` (GANTRY_MAX_FANOUT). */
  maxFanout: number
  /** In a cluster, a lock across nodes: a job's step tasks may end on any of them. */
  lock?<T>(key: string, work: () => Promise<T>): Promise<T>
}

export function createWorkflowEngine(deps: WorkflowEngineDeps) {
  const { store, bus } = deps
  // one advance at a time per job: task ends arrive together, and each reads then writes the job
  const queues = new Map<string, Promise<unknown>>()
  // tasks that just ended, as their event carried them: settling a step need not read them back from disk
  const justEnded = new Map<string, AbilityTask>()
  const stepDeps = { store, tasks: deps.tasks, justEnded, maxFanout: deps.maxFanout }
  // jobs stored before step results moved to their tasks are read in today's shape
  const getJob = async (id: string) => {
    const job = await store.jobs.get(id)
    return job && upgradeJob(job)
  }
  // jobs with an advance queued and not yet started
  const waiting = new Set<string>()

  function serialized<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const { lock } = deps
    const run = lock ? () => lock(`job:${jobId}`, work) : work
    const previous = queues.get(jobId) ?? Promise.resolve()
    const next = previous.then(run, run)
    const settled = next.catch(() => {})
    queues.set(jobId, settled)
    settled.then(() => queues.get(jobId) === settled && queues.delete(jobId))
    return next
  }

  function announce(job: WorkflowJob) {
    bus.emit('workflow-job.status', {
      jobId: job.id,
      userId: job.userId,
      status: job.status,
      progress: job.progress,
      job: summaryOf(job),
    })
  }

  /** Stores a new job (or finds the active one with its singleton key) and starts its first steps. */
  async function start(
    input: StartJob,
    idempotency?: IdempotencyRecord,
  ): Promise<{ job: WorkflowJob; existing: boolean }> {
    const def = deps.definitions().workflows.get(input.workflowId)
    if (!def) throw new GantryError('NOT_FOUND', `workflow '${input.workflowId}' not found`)
    const checked = def.checkInput(input.params ?? {})
    if (!checked.ok) {
      throw new GantryError('VALIDATION_FAILED', `params do not match the input schema of '${def.id}'`, {
        details: checked.errors,
      })
    }
    const job: WorkflowJob = {
      id: randomUUID(),
      seq: 0,
      workflowId: def.id,
      userId: input.caller.id,
      ...(input.projectId ? { projectId: input.projectId } : {}),
      params: checked.inputs,
      status: 'pending',
      progress: 0,
      plan: planOf(def),
      steps: Object.fromEntries(def.steps.map((s) => [s.id, { status: 'pending', items: '' }])),
      consumed: false,
      ...(input.callbackUrl
        ? { callbackUrl: input.callbackUrl, callbackHeaders: input.callbackHeaders }
        : {}),
      createdAt: Date.now(),
    }
    refuseLargeFanOut(job)
    if (idempotency) idempotency.jobId = job.id
    if (def.singleton) {
      const key = `${def.id}:${String(render(def.singleton, scopeOf(job)))}`
      job.singletonKey = key
      // a key is the caller's own: another user's start with the same key gets a job of its own
      const owner = job.userId
      // starts with the same key take turns, so two at once cannot both miss the other
      const existing = await serialized(`singleton:${JSON.stringify([owner, key])}`, async () => {
        const active = await store.jobs.activeWithSingleton(owner, key)
        // never answered with a job the caller does not own, whatever the lookup found
        if (active?.userId === owner) return active
        await store.jobs.insert(job, idempotency)
        return undefined
      })
      if (existing) return { job: upgradeJob(existing), existing: true }
    } else {
      await store.jobs.insert(job, idempotency)
    }
    announce(job)
    await serialized(job.id, () => advance(job.id))
    return { job: (await getJob(job.id)) ?? job, existing: false }
  }

  /**
   * A `forEach` over a list the params give, longer than its limit, is refused
   * before anything is stored; a list read from a step is checked when it runs.
   */
  function refuseLargeFanOut(job: WorkflowJob) {
    const knownNow = (value: unknown) =>
      references(value).every((r) => r.root === 'params' || r.root === 'job')
    for (const step of job.plan.steps) {
      if (step.forEach === undefined || !knownNow(step.forEach)) continue
      if (step.if !== undefined && !(knownNow(step.if) && isTruthy(render(step.if, scopeOf(job))))) continue
      const items = render(step.forEach, scopeOf(job))
      const error =
        Array.isArray(items) && fanOutError(step, items.length, deps.maxFanout, 'VALIDATION_FAILED')
      if (error) throw error
    }
  }

  /** Moves a job on: settles steps whose tasks ended, starts steps whose needs are met, ends the job when it can. */
  async function advance(jobId: string): Promise<void> {
    const job = await getJob(jobId)
    if (!job || JOB_ENDED.has(job.status)) return
    // this copy is changed, then written below; `before` says what moved
    const before = signatureOf(job)
    if (job.status === 'pending') {
      job.status = 'running'
      job.startedAt = Date.now()
    }
    let failed: ReturnType<typeof blockingFailure>
    for (;;) {
      for (const step of job.plan.steps) {
        const state = job.steps[step.id]
        if (state.status === 'running') await settleStep(stepDeps, job.id, step, state)
      }
      failed = blockingFailure(job)
      if (failed) break
      let found = false
      for (const step of job.plan.steps) {
        const state = job.steps[step.id]
        if (state.status !== 'pending') continue
        const needs = step.needs.map((n) => job.steps[n])
        if (!needs.every((n) => STEP_SETTLED.has(n.status))) continue
        found = (await startStep(stepDeps, job, step, state)) || found
      }
      failed = blockingFailure(job)
      // a step found tasks stored before a crash: they may have ended already, and no
      // event will say so again, so they are settled now (each pass starts a step: it ends)
      if (failed || !found) break
    }
    if (failed) await failJob(job, failed[0], failed[1])
    else if (Object.values(job.steps).every((s) => STEP_SETTLED.has(s.status))) await completeJob(job)
    job.progress = progressOf(job)
    await persist(job, before)
  }

  async function failJob(job: WorkflowJob, stepId: string, state: StepState) {
    job.status = 'failed'
    job.finishedAt = Date.now()
    job.error = { ...(state.error ?? { code: 'PROVIDER_ERROR', message: 'step failed' }), stepId }
    await stopSteps(stepDeps, job)
  }

  /** The job's output is stored once, when it completes; the steps' outputs are read from their tasks. */
  async function completeJob(job: WorkflowJob) {
    job.status = 'completed'
    job.finishedAt = Date.now()
    job.progress = 100
    try {
      const read = job.plan.output ? stepsReadBy(job.plan.output) : Object.keys(job.steps)
      const outputs = await loadOutputs(store, job, read)
      job.output = job.plan.output
        ? render(job.plan.output, scopeOf(job, outputs))
        : Object.fromEntries(Object.keys(job.steps).map((id) => [id, outputs[id]]))
    } catch (err) {
      job.status = 'failed'
      job.error = { code: 'VALIDATION_FAILED', message: `output: ${(err as Error).message}` }
    }
  }

  async function persist(job: WorkflowJob, before: string) {
    // nothing a client sees moved: not written, so a fan-out's job is written about once per
    // percent of progress instead of once per item (items that ended are read from their tasks)
    if (signatureOf(job) === before) return
    const deliveries: CallbackDelivery[] = []
    const ended = JOB_ENDED.has(job.status) && !before.startsWith(`${job.status}:`) && !job.callback
    if (ended && job.callbackUrl) {
      const delivery = callbackFor(job)
      job.callback = { deliveryId: delivery.id }
      deliveries.push(delivery)
    }
    await store.jobs.save(job, deliveries)
    if (deliveries.length) deps.onDeliveryQueued?.()
    announce(job)
  }

  return {
    start,

    /** Call when a task ends: moves its job on. */
    onTaskEnded(task: AbilityTask) {
      if (task.job) {
        justEnded.set(task.id, task)
        // a task of a job that ended meanwhile is never settled: keep the map bounded
        if (justEnded.size > 10_000) justEnded.delete(justEnded.keys().next().value!)
        const jobId = task.job.jobId
        // tasks of a fan-out end together: one advance that has not started yet serves them all
        if (waiting.has(jobId)) return
        waiting.add(jobId)
        serialized(jobId, () => {
          waiting.delete(jobId)
          return advance(jobId)
        }).catch((err) =>
          deps.log('error', 'workflow: could not advance a job', { jobId, err: coerceError(err).message }),
        )
      }
    },

    async cancel(job: WorkflowJob): Promise<WorkflowJob> {
      return serialized(job.id, async () => {
        const current = (await getJob(job.id))!
        if (JOB_ENDED.has(current.status))
          throw new GantryError('CONFLICT', `job ${job.id} already ended (${current.status})`)
        const before = signatureOf(current)
        await stopSteps(stepDeps, current)
        current.status = 'canceled'
        current.finishedAt = Date.now()
        current.error = { code: 'CANCELED', message: 'canceled' }
        current.progress = progressOf(current)
        await persist(current, before)
        return current
      })
    },

    /** Runs failed and canceled steps again; succeeded ones keep their outputs. */
    async retry(job: WorkflowJob): Promise<WorkflowJob> {
      await serialized(job.id, async () => {
        const current = (await getJob(job.id))!
        if (current.status !== 'failed' && current.status !== 'canceled') {
          throw new GantryError(
            'CONFLICT',
            `only a failed or canceled job can be retried (this one is ${current.status})`,
          )
        }
        for (const state of Object.values(current.steps)) {
          if (state.status === 'failed' || state.status === 'canceled') {
            // items that succeeded keep their tasks, and so their results; the rest run again
            const keptRounds: Record<string, number> = {}
            for (const [i, item] of [...state.items].entries())
              if (item === 's') keptRounds[i] = state.keptRounds?.[i] ?? state.round ?? 0
            Object.assign(state, {
              status: 'pending',
              settled: undefined,
              error: undefined,
              keptRounds: Object.keys(keptRounds).length ? keptRounds : undefined,
              round: (state.round ?? 0) + 1,
            })
          }
        }
        Object.assign(current, {
          status: 'running',
          finishedAt: undefined,
          error: undefined,
          consumed: false,
        })
        await store.jobs.save(current)
        announce(current)
        await advance(current.id)
      })
      return (await getJob(job.id))!
    },

    async consume(job: WorkflowJob): Promise<WorkflowJob> {
      return serialized(job.id, async () => {
        const current = (await getJob(job.id))!
        current.consumed = true
        current.consumedAt = Date.now()
        await store.jobs.save(current)
        return current
      })
    },

    /** At start: every unfinished job settles what ended while it was down and goes on. */
    async recover(): Promise<number> {
      const jobs = await store.jobs.unfinished()
      for (const job of jobs) await serialized(job.id, () => advance(job.id))
      return jobs.length
    },

    /** Tasks of a job, for its view. */
    async tasksOf(job: WorkflowJob): Promise<AbilityTask[]> {
      const steps = Object.entries(upgradeJob(job).steps)
      const all = steps.flatMap(([stepId, s]) => taskIdsOf(job.id, stepId, s))
      return (await Promise.all(all.map((id) => store.tasks.get(id)))).filter((t): t is AbilityTask => !!t)
    },
  }
}

export type WorkflowEngine = ReturnType<typeof createWorkflowEngine>
