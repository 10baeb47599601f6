/**
 * Ability tasks: accepted durably, run through the same scheduler and pool as
 * sync calls, retried with backoff, resumed after a restart. Every change an
 * attempt makes is conditional on that attempt's number (a fencing token), so
 * a late answer from a stale attempt changes nothing, and a task reaches
 * exactly one end state.
 */
import { randomUUID } from 'node:crypto'
import type { TaskClaimer } from '../cluster/task-claimer.js'
import { createTaskClaimer } from '../cluster/task-claimer.js'
import type { DefinitionSet } from '../definitions/types.js'
import { coerceError, GantryError } from '../errors.js'
import type { HookRunner } from '../events/plugin-hooks.js'
import { hasMediaRefs, type InputOffload } from '../media/offload-inputs.js'
import type { AbilityInvokePayload, Caller } from '../model/call.js'
import type { CallbackDelivery } from '../model/callback.js'
import type { ClusterCoordination } from '../model/cluster.js'
import type { IdempotencyRecord } from '../model/idempotency.js'
import { type AbilityTask, ENDED } from '../model/task.js'
import { backoffDelay, sleep } from '../run/backoff.js'
import { passBeforeInvoke } from '../run/before-invoke.js'
import { toResponse } from '../run/call-outcome.js'
import { type PreparedCall, prepareCall } from '../run/prepare-call.js'
import type { ProviderCatalog } from '../run/providers.js'
import { type CallRunnerDeps, executeAttempt, shouldRetry } from '../run/run-call.js'
import type { WorkerReply } from '../run/worker-protocol.js'
import { callbackFor } from './task-callback.js'
import { createTaskCredits } from './task-credits.js'
import { reclaimTasks, recoverTasks } from './task-recovery.js'

/** How soon a task whose step the store could not write is taken up again. */
const RETAKE_MS = 1000

export interface TaskRunnerDeps extends CallRunnerDeps {
  /** Keeps large inline media of accepted tasks in the media store, and reads them back. */
  inputMedia?: InputOffload
  definitions(): DefinitionSet
  providers: ProviderCatalog
  /** The plugins' hooks: `beforeInvoke` admits every new task, submitted or a workflow step's. */
  hooks: HookRunner
  /** Called when a callback delivery was queued, so it goes out at once. */
  onDeliveryQueued?(): void
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
  /** Nodes sharing the store's queue: tasks are claimed from it rather than run where accepted. */
  cluster?: ClusterCoordination
  /** In a cluster, how often a node claims when nothing woke it; default 1 s. */
  claimPollMs?: number
}

export interface NewTask {
  /** A workflow step's task has a stable id, so a job taken up again finds it; others get a fresh one. */
  id?: string
  caller: Caller
  abilityId: string
  payload: AbilityInvokePayload
  priority: number
  job?: AbilityTask['job']
  overrides?: AbilityTask['overrides']
}

/** What a task in this process is doing right now. */
interface LiveTask {
  controller: AbortController
  done: Promise<void>
  /** In a cluster, when this node claimed it (a lease renewal that began earlier may not list it). */
  claimedAt?: number
  progress?: { percent: number; stage?: string; eta?: number }
}

export function createTaskRunner(deps: TaskRunnerDeps) {
  const { store, bus } = deps
  const live = new Map<string, LiveTask>()
  let stopping = false

  function announce(task: AbilityTask) {
    bus.emit('ability-task.status', { task })
  }

  const credits = createTaskCredits(store, bus)
  const { cluster } = deps
  const claimer: TaskClaimer | undefined = cluster
    ? createTaskClaimer({
        claim: (wants, now) => cluster.queue.claim(wants, now),
        executors: () =>
          [...deps.definitions().executors.values()]
            .filter((e) => !e.notConfigured?.length && deps.providers.get(e.provider))
            .map((e) => ({ id: e.id, maxConcurrency: e.maxConcurrency })),
        run: runClaimed,
        pollMs: deps.claimPollMs ?? 1000,
        log: deps.log,
      })
    : undefined

  /**
   * Builds a task that passed its checks and the plugins' `beforeInvoke` hooks; refuses what could
   * never run (400, 404) and what a hook refuses (its code). Task submits and workflow steps both
   * come here, so neither skips the hooks.
   */
  async function prepare(input: NewTask): Promise<{ task: AbilityTask; call: PreparedCall }> {
    const checked = prepareCall(
      deps.definitions(),
      deps.providers,
      input.abilityId,
      input.payload,
      input.caller,
    )
    const call = await passBeforeInvoke(deps.hooks, checked, input.caller.id)
    const task: AbilityTask = {
      id: input.id ?? randomUUID(),
      seq: 0,
      abilityId: call.ability.id,
      executorId: call.executor.id,
      userId: input.caller.id,
      status: 'queued',
      priority: input.priority,
      progress: 0,
      attempts: 0,
      // the inputs with their defaults, so a retry after a reload runs what was accepted
      payload: { ...call.payload, inputs: call.inputs, executorId: call.executor.id },
      ...(input.job ? { job: input.job } : {}),
      ...(input.overrides ? { overrides: input.overrides } : {}),
      createdAt: Date.now(),
    }
    remember(task.id, call)
    return { task, call }
  }

  // calls prepared at accept time, reused by the task's attempts here while the definitions are
  // unchanged; bounded, since in a cluster another node may run (and end) the task
  const prepared = new Map<string, { call: PreparedCall; version: number }>()
  function remember(taskId: string, call: PreparedCall) {
    prepared.set(taskId, { call, version: deps.definitions().version })
    if (prepared.size > 10_000) prepared.delete(prepared.keys().next().value!)
  }

  function prepareFor(task: AbilityTask, payload: AbilityInvokePayload = task.payload): PreparedCall {
    const set = deps.definitions()
    const cached = prepared.get(task.id)
    // the payload may have gained metadata since (plugin hooks)
    const call =
      cached && cached.version === set.version
        ? { ...cached.call, payload: task.payload, metadata: task.payload.metadata ?? {} }
        : prepareCall(set, deps.providers, task.abilityId, payload, null)
    const { retry, timeoutMs } = task.overrides ?? {}
    return retry || timeoutMs
      ? { ...call, retry: retry ?? call.retry, timeoutMs: timeoutMs ?? call.timeoutMs }
      : call
  }

  /** As prepareFor, with media the payload keeps in the media store read back first. */
  async function prepareToRun(task: AbilityTask): Promise<PreparedCall> {
    const cached = prepared.get(task.id)
    if (cached && cached.version === deps.definitions().version) return prepareFor(task)
    const payload =
      deps.inputMedia && hasMediaRefs(task.payload)
        ? await deps.inputMedia.restore(task.id, task.payload)
        : task.payload
    return prepareFor(task, payload)
  }

  /** The call to run, or undefined once the task has failed because it cannot be prepared (its ability is gone). */
  async function prepareOrFail(task: AbilityTask): Promise<PreparedCall | undefined> {
    try {
      return await prepareToRun(task)
    } catch (err) {
      const e = coerceError(err)
      await finish(task, { status: 'failed', errorCode: e.code, errorMessage: e.message }, task.attempts)
      return undefined
    }
  }

  function start(task: AbilityTask, resume = false) {
    if (live.has(task.id) || stopping) return
    const controller = new AbortController()
    const entry: LiveTask = { controller, done: Promise.resolve() }
    live.set(task.id, entry)
    entry.done = drive(task, controller.signal, resume)
      .catch((err) => {
        const e = coerceError(err)
        deps.log('error', 'task driver failed', { taskId: task.id, err: e.message })
        // the store could not write the task's next step: its stored state stands, so once the
        // store writes again the task is taken up as a start would take it up (see task-recovery.ts)
        if (e.code === 'STORE_UNAVAILABLE') setTimeout(() => void retake(task.id), RETAKE_MS).unref()
      })
      .finally(() => live.delete(task.id))
  }

  /**
   * Takes up again a task whose driver stopped because the store could not write: queued, it is
   * driven; running, it goes back to the queue without spending its attempt (the disk failed, not
   * the call), or is polled again when its provider holds a job. Tried each second until it writes.
   */
  async function retake(taskId: string): Promise<void> {
    if (stopping || live.has(taskId)) return
    const task = await store.tasks.get(taskId)
    if (!task || ENDED.has(task.status)) return
    try {
      if (task.status === 'queued') start(task)
      else if (task.externalId) start(task, true)
      else {
        await putBack(task)
        const requeued = await store.tasks.get(taskId)
        if (requeued?.status === 'queued') start(requeued)
      }
    } catch (err) {
      if (coerceError(err).code !== 'STORE_UNAVAILABLE') throw err
      setTimeout(() => void retake(taskId), RETAKE_MS).unref()
    }
  }

  /**
   * A running task back in the queue without spending its attempt (a shutdown stopped it, not a
   * user or a fault); a provider job it has is kept, to be polled rather than submitted again.
   */
  async function putBack(task: AbilityTask): Promise<void> {
    const requeued: AbilityTask = { ...task, status: 'queued', attempts: task.attempts - 1 }
    await store.tasks.save(requeued, { status: ['running'], attempts: task.attempts })
  }

  /** In a cluster: runs the attempt of a task this node claimed; a retry goes back to the shared queue. */
  function runClaimed(task: AbilityTask): Promise<void> {
    // claimed as this node began to stop: back to the queue for another node
    if (stopping) return putBack(task)
    const controller = new AbortController()
    const entry: LiveTask = { controller, done: Promise.resolve(), claimedAt: Date.now() }
    live.set(task.id, entry)
    announce(task)
    entry.done = (async () => {
      const call = await prepareOrFail(task)
      if (!call) return
      const outcome = await attempt(task, call, controller.signal)
      // the call is over: its settling frees the lease, so a renewal no longer lists it
      entry.claimedAt = undefined
      const [next] = await Promise.all([settle(task, call, outcome.reply, outcome.logId), outcome.logWritten])
      if (next?.runAfter) claimer?.wakeAt(next.runAfter)
    })().finally(() => live.delete(task.id))
    return entry.done
  }

  async function drive(initial: AbilityTask, signal: AbortSignal, resume: boolean): Promise<void> {
    let task = initial
    for (;;) {
      if (task.runAfter && task.runAfter > Date.now()) {
        try {
          await sleep(task.runAfter - Date.now(), signal)
        } catch {
          return // canceled or swept while waiting; whoever aborted saved the end
        }
      }
      const call = await prepareOrFail(task)
      if (!call) return
      let release: () => void
      try {
        release = await deps.scheduler.acquire({
          executorId: call.executor.id,
          maxConcurrency: call.executor.maxConcurrency,
          priority: task.priority,
          signal,
        })
      } catch {
        return // canceled while waiting for a slot
      }
      try {
        if (stopping) return
        const claimed = resume ? task : await claim(task)
        resume = false
        if (!claimed) return
        task = claimed
        const outcome = await attempt(task, call, signal)
        const [next] = await Promise.all([
          settle(task, call, outcome.reply, outcome.logId),
          outcome.logWritten,
        ])
        if (!next) return
        task = next
      } finally {
        release()
      }
    }
  }

  /** queued -> running, taking the next attempt number; false if the task moved on meanwhile. */
  async function claim(task: AbilityTask): Promise<AbilityTask | undefined> {
    const current = await store.tasks.get(task.id)
    if (current?.status !== 'queued') return undefined
    const running: AbilityTask = {
      ...current,
      status: 'running',
      attempts: current.attempts + 1,
      startedAt: current.startedAt ?? Date.now(),
      progress: 0,
      stage: undefined,
      eta: undefined,
      runAfter: undefined,
      externalId: undefined,
    }
    if (!(await store.tasks.save(running, { status: ['queued'], attempts: current.attempts })))
      return undefined
    announce(running)
    return running
  }

  function attempt(task: AbilityTask, call: PreparedCall, signal: AbortSignal) {
    const caller: Caller = { id: task.userId, role: 'user' }
    return executeAttempt(
      deps,
      call,
      {
        caller,
        taskId: task.id,
        signal,
        externalId: task.externalId,
        onExternalId: async (externalId) => {
          // kept before the first poll: after a crash, polling resumes instead of submitting again
          task.externalId = externalId
          await store.tasks.save({ ...task }, { status: ['running'], attempts: task.attempts })
        },
        onProgress: (percent, stage, eta) => {
          const entry = live.get(task.id)
          if (entry) entry.progress = { percent, stage, eta }
          bus.emit('ability-task.progress', {
            taskId: task.id,
            userId: task.userId,
            abilityId: task.abilityId,
            executorId: task.executorId,
            attempts: task.attempts,
            logId: task.logId,
            percent,
            stage,
            eta,
          })
        },
      },
      task.id,
      task.attempts,
    )
  }

  /** After an attempt: the end state, or queued again for a retry. Returns the task to go on with. */
  async function settle(task: AbilityTask, call: PreparedCall, reply: WorkerReply, logId: string) {
    const charge = reply.ok ? credits.chargeOf(call, reply) : 0
    const response = toResponse(
      call,
      reply,
      logId,
      task.attempts,
      Date.now() - (task.startedAt ?? task.createdAt),
      task.id,
      charge,
    )
    if (reply.ok) {
      await finish(
        task,
        { status: 'succeeded', logId, resultPayload: response, progress: 100 },
        task.attempts,
        { charge, current: true },
      )
      return undefined
    }
    if (reply.error.code === 'CANCELED') {
      if (stopping) {
        // stopped by a shutdown, not by a user or a fault: back in the queue for the next start
        await putBack(task)
        return undefined
      }
      await finish(
        task,
        { status: 'canceled', logId, errorCode: 'CANCELED', errorMessage: 'canceled' },
        task.attempts,
        { current: true },
      )
      return undefined
    }
    if (shouldRetry(reply, task.attempts, call) && !stopping) {
      const retry: AbilityTask = {
        ...task,
        status: 'queued',
        logId,
        errorCode: reply.error.code,
        errorMessage: reply.error.message,
        runAfter: Date.now() + backoffDelay(call.retry.backoffMs, task.attempts),
        externalId: undefined,
      }
      if (!(await store.tasks.save(retry, { status: ['running'], attempts: task.attempts }))) return undefined
      announce(retry)
      return retry
    }
    const failed = {
      status: 'failed' as const,
      logId,
      resultPayload: response,
      errorCode: reply.error.code,
      errorMessage: reply.error.message,
    }
    await finish(task, failed, task.attempts, { current: true })
    return undefined
  }

  /**
   * Ends a task if it is still where `attempts` left it: one end state, with its
   * hold closed (`charge` committed, the rest released) and its callback
   * delivery queued in the same write.
   */
  async function finish(
    task: AbilityTask,
    end: Partial<AbilityTask>,
    attempts: number,
    opts: {
      /** Committed from the task's hold; the rest is released. */
      charge?: number
      /**
       * `task` is the attempt's own copy, so it need not be read back: its changes are saved through
       * it, and any other change moves the status or the attempt, which the conditional save refuses.
       */
      current?: boolean
    } = {},
  ): Promise<boolean> {
    const { charge = 0 } = opts
    const current = opts.current ? task : await store.tasks.get(task.id)
    if (!current || ENDED.has(current.status)) return false
    const ended: AbilityTask = { ...current, ...end, finishedAt: Date.now(), runAfter: undefined }
    const deliveries: CallbackDelivery[] = []
    if (ended.payload.callbackUrl) {
      const delivery = callbackFor(ended)
      ended.callback = { deliveryId: delivery.id }
      deliveries.push(delivery)
    }
    // only a priced task has a hold whose closing its owner is told about: free ones skip the wallet reads
    const priced = !!deps.definitions().abilities.get(ended.abilityId)?.pricing
    const before = priced ? await store.ledger.wallet(ended.userId) : undefined
    const saved = await store.tasks.save(
      ended,
      { attempts, status: ['queued', 'running'] },
      // a free task has no hold to close (one left by a pricing change is released by the sweeps)
      { deliveries, charge: priced ? charge : undefined },
    )
    if (!saved) return false
    prepared.delete(ended.id)
    if (before) await credits.announceSettled(ended, before)
    announce(ended)
    if (deliveries.length) deps.onDeliveryQueued?.()
    return true
  }

  /** Asks every node to stop a task's call (only its own node has it). */
  async function tellNodes(taskId: string) {
    await cluster?.signal({ kind: 'cancel', taskId }).catch(() => {})
  }

  return {
    prepare,

    /** Stores a prepared task (with its idempotency record) and starts it. */
    async accept(task: AbilityTask, idempotency?: IdempotencyRecord): Promise<AbilityTask> {
      if (stopping) throw new GantryError('SHUTTING_DOWN', 'gantry is shutting down')
      // the estimate is held in the same write as the task (402 when the wallet cannot cover it)
      const holdPoints = prepareFor(task).estimate.hold
      // large inline media go to the media store; the stored task keeps references
      if (deps.inputMedia) task.payload = await deps.inputMedia.offload(task.id, task.payload)
      await store.tasks.insert(task, { idempotency, holdPoints })
      if (holdPoints > 0) await credits.announceHold(task, holdPoints)
      bus.emit('task.queued', { taskId: task.id, abilityId: task.abilityId, userId: task.userId })
      announce(task)
      if (claimer) claimer.wake()
      else start(task)
      return task
    },

    /** Cancels a queued task at once, or aborts a running one and waits for it to stop. */
    async cancel(task: AbilityTask): Promise<AbilityTask> {
      if (ENDED.has(task.status)) {
        throw new GantryError('CONFLICT', `task ${task.id} already ended (${task.status})`)
      }
      const canceled = { status: 'canceled' as const, errorCode: 'CANCELED', errorMessage: 'canceled' }
      if (task.status === 'queued') {
        if (await finish(task, canceled, task.attempts)) {
          live.get(task.id)?.controller.abort()
          return (await store.tasks.get(task.id))!
        }
        // claimed meanwhile (in a cluster, maybe by another node): cancel it as a running task
      }
      const entry = live.get(task.id)
      entry?.controller.abort()
      // the driver ends it as canceled once the call stops; a task with no driver here is ended now
      if (entry) await Promise.race([entry.done, sleep(10_000)])
      const after = await store.tasks.get(task.id)
      if (after && !ENDED.has(after.status)) {
        const ended = await finish(after, canceled, after.attempts)
        // the node running it stops its call
        if (ended && !entry && after.status === 'running') await tellNodes(task.id)
      }
      return (await store.tasks.get(task.id))!
    },

    /** Fails a task that waited or ran too long (sweeps); aborts its driver if it has one. */
    async expire(task: AbilityTask, code: string, message: string): Promise<boolean> {
      const ended = await finish(
        task,
        { status: 'failed', errorCode: code, errorMessage: message },
        task.attempts,
      )
      const entry = live.get(task.id)
      entry?.controller.abort()
      if (ended && !entry && task.status === 'running') await tellNodes(task.id)
      return ended
    },

    /**
     * At start: resumes what a stop or a crash left queued or running (see task-recovery.ts).
     * In a cluster nothing is taken over here: the queue is claimed, and the leader reclaims
     * tasks whose leases ran out.
     */
    async recover() {
      if (!claimer) return recoverTasks({ store, definitions: deps.definitions, start, finish })
      claimer.start()
      return { queued: 0, resumed: 0, rerun: 0, failed: 0 }
    },

    /** In a cluster (the leader): puts tasks whose leases ran out back in the queue, or fails them. */
    async reclaim(): Promise<{ requeued: number; failed: number }> {
      if (!cluster) return { requeued: 0, failed: 0 }
      const counts = await reclaimTasks(
        { store, definitions: deps.definitions, finish },
        await cluster.queue.takeExpired(),
      )
      if (counts.requeued) await cluster.signal({ kind: 'tasks' })
      return counts
    },

    /** In a cluster: another node asked to stop this task's call, or this node lost its lease. */
    abortLocal(taskId: string) {
      live.get(taskId)?.controller.abort()
    },

    /** In a cluster: renews this node's leases, and stops calls whose lease another node took over. */
    async renewLeases() {
      if (!cluster) return
      const asked = Date.now()
      const held = await cluster.renew()
      for (const [taskId, entry] of live) {
        if (entry.claimedAt !== undefined && entry.claimedAt < asked && !held.has(taskId)) {
          deps.log('warn', 'cluster: lease lost; stopping the call', { taskId })
          entry.controller.abort()
        }
      }
    },

    /** Claims again now (a signal from another node). */
    wake: () => claimer?.wake(),

    /** Progress as last reported (kept in memory; status changes are what is stored). */
    progressOf(taskId: string) {
      return live.get(taskId)?.progress
    },

    isLive: (taskId: string) => live.has(taskId),

    /** Stops taking tasks; running ones get `graceMs` to end, then are left to recovery. */
    async stop(graceMs: number): Promise<void> {
      stopping = true
      await claimer?.stop()
      const running = [...live.values()].map((l) => l.done)
      await Promise.race([Promise.all(running), sleep(graceMs)])
      const left = [...live.values()]
      for (const l of left) l.controller.abort()
      await Promise.race([Promise.all(left.map((l) => l.done)), sleep(2000)])
    },
  }
}

export type TaskRunner = ReturnType<typeof createTaskRunner>
