/**
 * The workflow engine: a job is a plan of steps; each step (each `forEach`
 * item) runs as an ability task in the same queue, so concurrency, timeouts,
 * retries, credits, logs and events all apply. The job's state is stored and
 * advanced whenever one of its tasks ends; after a restart a job picks up
 * from its stored steps and never re-runs one that succeeded.
 */
import { randomUUID } from 'node:crypto'
import { newWebhookId } from '../callbacks/sign.js'
import type { CallbackDelivery } from '../callbacks/types.js'
import type { DefinitionSet, WorkflowDef } from '../definitions/types.js'
import { coerceError, GantryError } from '../errors.js'
import type { EventBus } from '../events/bus.js'
import type { Logger } from '../logger.js'
import type { Caller } from '../run/types.js'
import type { Store } from '../store/types.js'
import type { TaskRunner } from '../tasks/task-runner.js'
import { type AbilityTask, ENDED, type IdempotencyRecord } from '../tasks/types.js'
import { parseModelJson } from './json-repair.js'
import { isTruthy, render, type TemplateScope } from './template.js'
import { JOB_ENDED, type JobPlan, STEP_SETTLED, type StepState, type WorkflowJob } from './types.js'

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
}

export function createWorkflowEngine(deps: WorkflowEngineDeps) {
  const { store, bus } = deps
  // one advance at a time per job: task ends arrive together, and each reads then writes the job
  const queues = new Map<string, Promise<unknown>>()
  // tasks that just ended, as their event carried them: settling a step need not read them back from disk
  const justEnded = new Map<string, AbilityTask>()

  function serialized<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(jobId) ?? Promise.resolve()
    const next = previous.then(work, work)
    const settled = next.catch(() => {})
    queues.set(jobId, settled)
    settled.then(() => queues.get(jobId) === settled && queues.delete(jobId))
    return next
  }

  function planOf(def: WorkflowDef): JobPlan {
    return {
      steps: def.steps.map((s, i) => ({
        id: s.id,
        ability: s.ability,
        with: s.with ?? {},
        needs: s.needs ?? (i === 0 ? [] : [def.steps[i - 1].id]),
        ...(s.if !== undefined ? { if: s.if } : {}),
        ...(s.forEach !== undefined ? { forEach: s.forEach } : {}),
        ...(s.retry ? { retry: s.retry } : {}),
        ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}),
        continueOnError: s.continueOnError,
        ...(s.parse ? { parse: s.parse } : {}),
        weight: s.weight ?? 1,
      })),
      ...(def.output ? { output: def.output } : {}),
    }
  }

  function scopeOf(job: WorkflowJob, extra: Partial<TemplateScope> = {}): TemplateScope {
    const steps: TemplateScope['steps'] = {}
    for (const [id, state] of Object.entries(job.steps))
      steps[id] = { output: state.output, status: state.status }
    return {
      params: job.params,
      job: { id: job.id, projectId: job.projectId, userId: job.userId },
      steps,
      ...extra,
    }
  }

  /** What clients need to follow a job; the whole job is on GET /api/workflow-jobs/:id. */
  function summaryOf(job: WorkflowJob) {
    return {
      id: job.id,
      workflowId: job.workflowId,
      projectId: job.projectId ?? null,
      status: job.status,
      progress: job.progress,
      steps: job.plan.steps.map((s) => ({ id: s.id, status: job.steps[s.id].status })),
      error: job.error ?? null,
      ...(JOB_ENDED.has(job.status) ? { output: job.output ?? null } : {}),
    }
  }

  /** Status, progress and each step's status: a change to any of them is announced. */
  function signatureOf(job: WorkflowJob): string {
    let signature = `${job.status}:${job.progress}`
    for (const s of job.plan.steps) {
      const state = job.steps[s.id]
      signature += `|${state.status}:${state.results.filter((r) => r !== null).length}`
    }
    return signature
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
      steps: Object.fromEntries(
        def.steps.map((s) => [s.id, { status: 'pending', taskIds: [], results: [], errors: [] }]),
      ),
      consumed: false,
      ...(input.callbackUrl
        ? { callbackUrl: input.callbackUrl, callbackHeaders: input.callbackHeaders }
        : {}),
      createdAt: Date.now(),
    }
    if (idempotency) idempotency.jobId = job.id
    if (def.singleton) {
      const key = `${def.id}:${String(render(def.singleton, scopeOf(job)))}`
      job.singletonKey = key
      // starts with the same key take turns, so two at once cannot both miss the other
      const existing = await serialized(`singleton:${key}`, async () => {
        const active = await store.jobs.activeWithSingleton(key)
        if (!active) await store.jobs.insert(job, idempotency)
        return active
      })
      if (existing) return { job: existing, existing: true }
    } else {
      await store.jobs.insert(job, idempotency)
    }
    announce(job)
    await serialized(job.id, () => advance(job.id))
    return { job: (await store.jobs.get(job.id)) ?? job, existing: false }
  }

  /** Moves a job on: settles steps whose tasks ended, starts steps whose needs are met, ends the job when it can. */
  async function advance(jobId: string): Promise<void> {
    const stored = await store.jobs.get(jobId)
    if (!stored || JOB_ENDED.has(stored.status)) return
    // changed in place (jobs are kept in memory) and written below; `before` says what moved
    const job = stored
    const before = signatureOf(job)
    if (job.status === 'pending') {
      job.status = 'running'
      job.startedAt = Date.now()
    }
    for (const step of job.plan.steps) {
      const state = job.steps[step.id]
      if (state.status === 'running') await settleStep(step, state)
    }
    let failed = blockingFailure(job)
    if (!failed) {
      for (const step of job.plan.steps) {
        const state = job.steps[step.id]
        if (state.status !== 'pending') continue
        const needs = step.needs.map((n) => job.steps[n])
        if (!needs.every((n) => STEP_SETTLED.has(n.status))) continue
        await startStep(job, step, state)
      }
      failed = blockingFailure(job)
    }
    if (failed) await failJob(job, failed[0], failed[1])
    else if (Object.values(job.steps).every((s) => STEP_SETTLED.has(s.status))) completeJob(job)
    job.progress = progressOf(job)
    await persist(job, before)
  }

  /** A step that failed (or was canceled) without `continueOnError`: the job cannot complete. */
  function blockingFailure(job: WorkflowJob): [string, StepState] | undefined {
    return Object.entries(job.steps).find(
      ([id, s]) =>
        (s.status === 'failed' || s.status === 'canceled') &&
        !job.plan.steps.find((p) => p.id === id)!.continueOnError,
    )
  }

  async function startStep(job: WorkflowJob, step: JobPlan['steps'][number], state: StepState) {
    const accepted: AbilityTask[] = []
    try {
      if (step.if !== undefined && !isTruthy(render(step.if, scopeOf(job)))) {
        state.status = 'skipped'
        return
      }
      const items = step.forEach === undefined ? [undefined] : render(step.forEach, scopeOf(job))
      if (!Array.isArray(items))
        throw new GantryError('VALIDATION_FAILED', `forEach of step '${step.id}' is not a list`)
      if (items.length === 0) {
        state.status = 'succeeded'
        state.output = []
        return
      }
      // on a retry, items that already succeeded keep their task and result
      const kept = state.results.length === items.length ? state.results : []
      const prepared: (AbilityTask | undefined)[] = items.map((item, index) => {
        if (kept[index] !== null && kept[index] !== undefined) return undefined
        const scope = scopeOf(job, step.forEach === undefined ? {} : { item, index })
        const inputs = render(step.with, scope) as Record<string, unknown>
        return deps.tasks.prepare({
          caller: { id: job.userId, role: 'user' },
          abilityId: step.ability,
          payload: {
            inputs,
            metadata: {
              jobId: job.id,
              stepId: step.id,
              ...(step.forEach === undefined ? {} : { item: index }),
            },
          },
          priority: 0,
          job: { jobId: job.id, stepId: step.id, item: index },
          ...(step.retry || step.timeoutMs
            ? { overrides: { retry: step.retry, timeoutMs: step.timeoutMs } }
            : {}),
        }).task
      })
      state.status = 'running'
      state.taskIds = prepared.map((t, i) => t?.id ?? state.taskIds[i])
      state.results = prepared.map((t, i) => (t ? null : kept[i]))
      state.errors = prepared.map(() => null)
      // the job knows its tasks before they exist, so a crash in between leaves nothing untracked
      await store.jobs.save(job)
      for (const task of prepared) {
        if (!task) continue
        try {
          await deps.tasks.accept(task)
          accepted.push(task)
        } catch (err) {
          // one item refused (402, say): the items already accepted are canceled, their holds released
          for (const t of accepted) await deps.tasks.cancel(t).catch(() => {})
          throw err
        }
      }
    } catch (err) {
      const e = coerceError(err)
      state.status = 'failed'
      state.error = { code: e.code, message: e.message }
    }
  }

  async function settleStep(step: JobPlan['steps'][number], state: StepState) {
    let open = 0
    for (const [i, taskId] of state.taskIds.entries()) {
      if (state.results[i] !== null && state.results[i] !== undefined) continue
      const task = justEnded.get(taskId) ?? (await store.tasks.get(taskId))
      justEnded.delete(taskId)
      if (!task) {
        // accepted by the job but never stored (a crash in between, or a refusal such as 402)
        state.errors[i] ??= { code: 'WORKER_CRASHED', message: 'the step task was never stored' }
        continue
      }
      if (!ENDED.has(task.status)) {
        open++
        continue
      }
      if (task.status === 'succeeded') {
        const parsed = parseOutput(step, task)
        if (parsed.ok) state.results[i] = parsed.value
        else state.errors[i] = { code: 'VALIDATION_FAILED', message: parsed.message }
      } else {
        state.errors[i] = {
          code: task.errorCode ?? 'PROVIDER_ERROR',
          message: task.errorMessage ?? task.status,
        }
      }
    }
    if (open > 0) return
    const firstError = state.errors.find((e) => e !== null)
    state.output = step.forEach === undefined ? state.results[0] : state.results
    if (firstError) {
      const canceled = state.taskIds.length > 0 && firstError.code === 'CANCELED'
      state.status = canceled ? 'canceled' : 'failed'
      state.error = firstError
    } else {
      state.status = 'succeeded'
    }
  }

  /** `parse: json`: the first text of the result, parsed (and repaired) into `json`. */
  function parseOutput(
    step: JobPlan['steps'][number],
    task: AbilityTask,
  ): { ok: true; value: unknown } | { ok: false; message: string } {
    const result = task.resultPayload
    if (step.parse !== 'json') return { ok: true, value: result }
    const text = result?.texts?.[0] ?? ''
    const parsed = parseModelJson(text)
    if (!parsed.ok)
      return { ok: false, message: `step '${step.id}': the model's answer is not JSON: ${parsed.message}` }
    return { ok: true, value: { ...result, json: parsed.value } }
  }

  async function failJob(job: WorkflowJob, stepId: string, state: StepState) {
    job.status = 'failed'
    job.finishedAt = Date.now()
    job.error = { ...(state.error ?? { code: 'PROVIDER_ERROR', message: 'step failed' }), stepId }
    await stopSteps(job)
  }

  function completeJob(job: WorkflowJob) {
    job.status = 'completed'
    job.finishedAt = Date.now()
    job.progress = 100
    try {
      job.output = job.plan.output
        ? render(job.plan.output, scopeOf(job))
        : Object.fromEntries(Object.entries(job.steps).map(([id, s]) => [id, s.output]))
    } catch (err) {
      job.status = 'failed'
      job.error = { code: 'VALIDATION_FAILED', message: `output: ${(err as Error).message}` }
    }
  }

  /** Cancels every running step's tasks (their holds are released) and marks pending steps canceled. */
  async function stopSteps(job: WorkflowJob) {
    for (const state of Object.values(job.steps)) {
      if (state.status === 'pending') state.status = 'canceled'
      if (state.status !== 'running') continue
      for (const taskId of state.taskIds) {
        const task = await store.tasks.get(taskId)
        if (task && !ENDED.has(task.status)) await deps.tasks.cancel(task).catch(() => {})
      }
      state.status = 'canceled'
    }
  }

  function progressOf(job: WorkflowJob): number {
    if (job.status === 'completed') return 100
    let total = 0
    let done = 0
    for (const step of job.plan.steps) {
      const state = job.steps[step.id]
      total += step.weight
      if (STEP_SETTLED.has(state.status)) done += step.weight
      else if (state.status === 'running' && state.taskIds.length) {
        const ended =
          state.results.filter((r) => r !== null).length + state.errors.filter((e) => e !== null).length
        done += (step.weight * ended) / state.taskIds.length
      }
    }
    return total ? Math.round((done / total) * 100) : 0
  }

  async function persist(job: WorkflowJob, before: string) {
    const deliveries: CallbackDelivery[] = []
    const ended = JOB_ENDED.has(job.status) && !before.startsWith(`${job.status}:`) && !job.callback
    if (ended && job.callbackUrl) {
      const delivery = callbackFor(job)
      job.callback = { deliveryId: delivery.id }
      deliveries.push(delivery)
    }
    await store.jobs.save(job, deliveries)
    if (deliveries.length) deps.onDeliveryQueued?.()
    if (signatureOf(job) !== before) announce(job)
  }

  function callbackFor(job: WorkflowJob): CallbackDelivery {
    const now = Date.now()
    return {
      id: newWebhookId(),
      url: job.callbackUrl!,
      headers: job.callbackHeaders ?? {},
      body: {
        status: job.status,
        result: job.status === 'completed' ? (job.output ?? null) : null,
        error: job.error ?? null,
        logId: null,
        taskId: null,
        jobId: job.id,
        timestamp: new Date(now).toISOString(),
      },
      userId: job.userId,
      jobId: job.id,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    }
  }

  return {
    start,

    /** Call when a task ends: moves its job on. */
    onTaskEnded(task: AbilityTask) {
      if (task.job) {
        justEnded.set(task.id, task)
        // a task of a job that ended meanwhile is never settled: keep the map bounded
        if (justEnded.size > 10_000) justEnded.delete(justEnded.keys().next().value!)
        serialized(task.job.jobId, () => advance(task.job!.jobId)).catch((err) =>
          deps.log('error', 'workflow: could not advance a job', {
            jobId: task.job!.jobId,
            err: coerceError(err).message,
          }),
        )
      }
    },

    async cancel(job: WorkflowJob): Promise<WorkflowJob> {
      return serialized(job.id, async () => {
        const current = (await store.jobs.get(job.id))!
        if (JOB_ENDED.has(current.status))
          throw new GantryError('CONFLICT', `job ${job.id} already ended (${current.status})`)
        const before = signatureOf(current)
        await stopSteps(current)
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
        const current = (await store.jobs.get(job.id))!
        if (current.status !== 'failed' && current.status !== 'canceled') {
          throw new GantryError(
            'CONFLICT',
            `only a failed or canceled job can be retried (this one is ${current.status})`,
          )
        }
        for (const state of Object.values(current.steps)) {
          if (state.status === 'failed' || state.status === 'canceled') {
            // items that succeeded keep their results; the rest run again
            Object.assign(state, { status: 'pending', errors: [], output: undefined, error: undefined })
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
      return (await store.jobs.get(job.id))!
    },

    async consume(job: WorkflowJob): Promise<WorkflowJob> {
      return serialized(job.id, async () => {
        const current = (await store.jobs.get(job.id))!
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
      const all = Object.values(job.steps).flatMap((s) => s.taskIds)
      return (await Promise.all(all.map((id) => store.tasks.get(id)))).filter((t): t is AbilityTask => !!t)
    },
  }
}

export type WorkflowEngine = ReturnType<typeof createWorkflowEngine>
