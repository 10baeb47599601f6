/**
 * One Gantry node among several on one PostgreSQL: hears the others'
 * signals, renews its leases, and, while it leads, runs what must happen
 * once per cluster: sweeps, callback deliveries, reclaiming the tasks of
 * nodes that died, the event log's retention and vacuuming the queue's tables.
 */
import type { Logger } from '../logger.js'
import type { ClusterCoordination, ClusterSignal } from '../model/cluster.js'

export interface ClusterNodeDeps {
  coordination: ClusterCoordination
  tasks: {
    wake(): void
    abortLocal(taskId: string): void
    renewLeases(): Promise<void>
    reclaim(): Promise<{ requeued: number; failed: number }>
  }
  /** Advances unfinished workflow jobs (a node may have died between a step's end and its job's advance). */
  resumeJobs(): Promise<number>
  /** Releases holds left open (sync calls of a node that died, tasks that ended without closing theirs). */
  reconcileHolds(): Promise<unknown>
  notifier: { onAppended(lastId: number): void }
  callbacks: { start(): void; stop(): Promise<void>; kick(): void }
  sweeper: { start(): void; stop(): void }
  /** The shared event log keeps events this long. */
  eventMaxAgeMs: number
  log: Logger
}

// the leader advances unfinished jobs and reconciles holds this often
const HOUSEKEEPING_EVERY_MS = 60_000

export function createClusterNode(deps: ClusterNodeDeps) {
  const { coordination, tasks, log } = deps
  let leading = false
  let renewTimer: NodeJS.Timeout | undefined
  let leaderTimer: NodeJS.Timeout | undefined
  let housekeptAt = 0
  let leaderWork: Promise<void> = Promise.resolve()
  // a vacuum of a big table takes a while: it runs beside the other duties, one at a time
  let vacuuming: Promise<void> | undefined

  function onSignal(signal: ClusterSignal) {
    if (signal.kind === 'events') deps.notifier.onAppended(signal.lastId)
    else if (signal.kind === 'cancel') tasks.abortLocal(signal.taskId)
    else if (signal.kind === 'tasks') tasks.wake()
    else if (signal.kind === 'outbox' && leading) deps.callbacks.kick()
  }

  async function leaderTick() {
    if (!leading) return
    try {
      const reclaimed = await tasks.reclaim()
      if (reclaimed.requeued || reclaimed.failed)
        log('warn', 'cluster: took over tasks of a node that stopped', reclaimed)
      await coordination.events.removeBefore(Date.now() - deps.eventMaxAgeMs)
      vacuuming ??= coordination
        .vacuum()
        .then(
          (tables) => tables.length && log('debug', 'cluster: vacuumed', { tables }),
          (err) => log('warn', 'cluster: could not vacuum', { err: (err as Error).message }),
        )
        .then(() => {
          vacuuming = undefined
        })
      if (Date.now() - housekeptAt >= HOUSEKEEPING_EVERY_MS) {
        housekeptAt = Date.now()
        await deps.resumeJobs()
        await deps.reconcileHolds()
      }
    } catch (err) {
      log('warn', 'cluster: leader duties failed; trying again', { err: (err as Error).message })
    }
  }

  function onLeadership(now: boolean) {
    leading = now
    clearInterval(leaderTimer)
    if (now) {
      deps.sweeper.start()
      deps.callbacks.start()
      leaderWork = leaderTick()
      leaderTimer = setInterval(() => {
        leaderWork = leaderWork.then(leaderTick)
      }, coordination.leaseMs / 3)
      leaderTimer.unref()
    } else {
      deps.sweeper.stop()
      deps.callbacks.stop().catch(() => {})
    }
  }

  return {
    isLeader: () => leading,

    /** A callback was queued here: the leader delivers it. */
    deliveryQueued() {
      if (leading) deps.callbacks.kick()
      else coordination.signal({ kind: 'outbox' }).catch(() => {})
    },

    async start() {
      await coordination.start({ onSignal, onLeadership })
      renewTimer = setInterval(
        () =>
          tasks
            .renewLeases()
            .catch((err) => log('warn', 'cluster: could not renew leases', { err: String(err) })),
        coordination.leaseMs / 3,
      )
      renewTimer.unref()
    },

    /** Stops leading and renewing; the store's close then frees what this node still holds. */
    async stop() {
      clearInterval(renewTimer)
      clearInterval(leaderTimer)
      if (leading) onLeadership(false)
      await leaderWork
      await vacuuming
    },
  }
}

export type ClusterNode = ReturnType<typeof createClusterNode>
