/**
 * Cron sweeps: fail what waited or ran too long, remove what is past
 * retention. Each sweep logs what it did; `runAll` serves `gantry sweep` and
 * `POST /api/admin/sweep`.
 */
import { CronJob } from 'cron'
import type { DefinitionSet } from '../definitions/types.js'
import type { Logger } from '../logger.js'
import type { MediaStore } from '../model/media-store.js'
import type { Store } from '../model/store.js'
import { DEFAULT_TIMEOUT_MS } from '../run/prepare-call.js'
import { IDEMPOTENCY_TTL_MS } from '../tasks/idempotency.js'
import type { TaskRunner } from '../tasks/task-runner.js'

export interface SweepOptions {
  /**
   * Fail a running task that no driver of this process runs once past its deadline. Off in a
   * cluster: another node may be running it, and a dead node's tasks are found by their leases.
   */
  watchRunning?: boolean
  /** How long a task may wait in the queue when its ability and executor do not say. */
  queueTimeoutMs: number
  /** Ended tasks, logs and settled callbacks older than this are removed. */
  retentionMs: number
  /** Cron expressions (with seconds). */
  timeoutSchedule: string
  retentionSchedule: string
}

export interface SweepReport {
  queuedTimedOut: number
  stuckFailed: number
  tasksRemoved: number
  jobsRemoved: number
  mediaRemoved: number
  logsRemoved: number
  callbacksRemoved: number
  idempotencyKeysRemoved: number
  segmentsDropped: number
  holdsReleased: number
}

export function createSweeper(deps: {
  store: Store & { compact?(): Promise<{ dropped: number }> }
  tasks: TaskRunner
  media?: MediaStore
  definitions(): DefinitionSet
  log: Logger
  options: SweepOptions
}) {
  const { store, tasks, options, log } = deps
  const jobs: CronJob[] = []

  function limitsOf(abilityId: string, executorId: string) {
    const set = deps.definitions()
    const ability = set.abilities.get(abilityId)
    const executor = set.executors.get(executorId)
    return {
      queueTimeoutMs: ability?.queueTimeoutMs ?? executor?.queueTimeoutMs ?? options.queueTimeoutMs,
      timeoutMs: ability?.timeoutMs ?? executor?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      pollMs: ability?.poll?.maxDurationMs ?? executor?.poll?.maxDurationMs,
    }
  }

  /** Queued past its queue timeout: TIMEOUT. Running with no driver past its deadline: WORKER_CRASHED. */
  async function sweepTimeouts(now = Date.now()) {
    let queuedTimedOut = 0
    let stuckFailed = 0
    for (const task of await store.tasks.unfinished()) {
      const limits = limitsOf(task.abilityId, task.executorId)
      if (task.status === 'queued' && task.createdAt + limits.queueTimeoutMs < now) {
        const waited = Math.round((now - task.createdAt) / 1000)
        if (
          await tasks.expire(
            task,
            'TIMEOUT',
            `waited ${waited} s in the queue (limit ${limits.queueTimeoutMs} ms)`,
          )
        ) {
          queuedTimedOut++
        }
      } else if (task.status === 'running' && options.watchRunning !== false && !tasks.isLive(task.id)) {
        const deadline = (task.startedAt ?? task.createdAt) + Math.max(limits.timeoutMs, limits.pollMs ?? 0)
        if (
          deadline < now &&
          (await tasks.expire(task, 'WORKER_CRASHED', 'its call ended without an answer'))
        ) {
          stuckFailed++
        }
      }
    }
    if (queuedTimedOut || stuckFailed) log('info', 'sweep: timeouts', { queuedTimedOut, stuckFailed })
    return { queuedTimedOut, stuckFailed }
  }

  /**
   * Holds whose task has ended (or is gone) are released and reported. Holds of
   * sync calls are stale at start, when no call of this process can be running,
   * or, in a cluster, once the node that took them stopped renewing.
   */
  async function reconcileHolds(atStart = false) {
    let holdsReleased = 0
    const live = await store.cluster?.liveNodes()
    for (const hold of await store.ledger.openHolds()) {
      let stale = hold.holdKey.startsWith('invoke:') && (live ? !live.has(nodeOf(hold.holdKey)) : atStart)
      if (hold.taskId) {
        const task = await store.tasks.get(hold.taskId)
        stale = !task || task.finishedAt !== undefined
      }
      if (stale && (await store.ledger.settle(hold.holdKey, 0)).length) {
        holdsReleased++
        log('warn', 'sweep: released a hold left open', { ...hold })
      }
    }
    return { holdsReleased }
  }

  async function sweepRetention(now = Date.now()) {
    const before = now - options.retentionMs
    // jobs first: a step's task is kept while its job is (the job reads its result from it)
    const jobsRemoved = await store.jobs.removeFinishedBefore(before)
    const report = {
      tasksRemoved: await store.tasks.removeEndedBefore(before),
      jobsRemoved,
      mediaRemoved: (await deps.media?.removeBefore(before)) ?? 0,
      logsRemoved: await store.logs.removeBefore(before),
      callbacksRemoved: await store.outbox.removeSettledBefore(before),
      idempotencyKeysRemoved: await store.idempotency.removeBefore(now - IDEMPOTENCY_TTL_MS),
      segmentsDropped: (await store.compact?.())?.dropped ?? 0,
    }
    if (Object.values(report).some((n) => n > 0)) log('info', 'sweep: retention', report)
    return report
  }

  /** Runs one sweep at a time; a tick that finds the previous one still going is skipped. */
  function guarded(name: string, sweep: () => Promise<unknown>) {
    let running = false
    return async () => {
      if (running) return
      running = true
      try {
        await sweep()
      } catch (err) {
        log('error', `sweep ${name} failed`, { err })
      } finally {
        running = false
      }
    }
  }

  return {
    async runAll(now = Date.now()): Promise<SweepReport> {
      return { ...(await sweepTimeouts(now)), ...(await reconcileHolds()), ...(await sweepRetention(now)) }
    },
    reconcileHolds,
    sweepTimeouts,
    sweepRetention,
    start() {
      jobs.push(
        CronJob.from({
          cronTime: options.timeoutSchedule,
          onTick: guarded('timeouts', sweepTimeouts),
          start: true,
        }),
        CronJob.from({
          cronTime: options.retentionSchedule,
          onTick: guarded('retention', sweepRetention),
          start: true,
        }),
      )
    },
    stop() {
      for (const job of jobs.splice(0)) job.stop()
    },
  }
}

/** The node in a cluster sync call's hold key (`invoke:<node>:<call>`); '' for a single node's. */
const nodeOf = (holdKey: string) => holdKey.split(':').slice(1, -1).join(':')

export type Sweeper = ReturnType<typeof createSweeper>
