/**
 * A node's pull from the shared queue. It asks for as many tasks per
 * executor as it has free slots (the store caps that by the executor's
 * cluster-wide limit), runs what it gets, and asks again when a slot frees,
 * when another node signals, when a retry becomes due, and on a timer.
 */

import type { ClaimWant } from '../model/cluster.js'
import type { AbilityTask } from '../model/task.js'

export interface ClaimerDeps {
  claim(wants: ClaimWant[], now: number): Promise<AbilityTask[]>
  /** The executors this node can run, with their limits. */
  executors(): { id: string; maxConcurrency: number }[]
  /** Runs one claimed task's attempt; resolves when it is settled. */
  run(task: AbilityTask): Promise<void>
  /** Claims again at least this often (retries that came due, missed signals). */
  pollMs: number
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
}

/** At most this many tasks of one executor per claim. */
const BATCH = 128

export function createTaskClaimer(deps: ClaimerDeps) {
  const running = new Map<string, number>()
  let claiming: Promise<void> | undefined
  let again = false
  let stopped = true
  let poller: NodeJS.Timeout | undefined
  const dueTimers = new Set<NodeJS.Timeout>()

  function wants(): ClaimWant[] {
    return deps
      .executors()
      .map((e) => ({
        executorId: e.id,
        maxConcurrency: e.maxConcurrency,
        count: Math.min(BATCH, e.maxConcurrency - (running.get(e.id) ?? 0)),
      }))
      .filter((w) => w.count > 0)
  }

  async function claimRounds() {
    try {
      do {
        again = false
        const asked = wants()
        if (!asked.length) break
        const claimed = await deps.claim(asked, Date.now())
        for (const task of claimed) launch(task)
        // an executor that got all it asked for may have more waiting
        const got = countBy(claimed)
        if (asked.some((w) => got.get(w.executorId) === w.count)) again = true
      } while (again && !stopped)
    } catch (err) {
      deps.log('warn', 'cluster: could not claim tasks', { err: (err as Error).message })
    }
  }

  function launch(task: AbilityTask) {
    running.set(task.executorId, (running.get(task.executorId) ?? 0) + 1)
    deps
      .run(task)
      .catch((err) => deps.log('error', 'task driver failed', { taskId: task.id, err: String(err) }))
      .finally(() => {
        running.set(task.executorId, (running.get(task.executorId) ?? 1) - 1)
        wake()
      })
  }

  function wake() {
    if (stopped) return
    if (claiming) again = true
    else {
      // cleared by the stored promise, never inside claimRounds: a round that returns before its first
      // await would clear it before it was set, and no wake would claim again
      const round = claimRounds().finally(() => {
        if (claiming === round) claiming = undefined
      })
      claiming = round
    }
  }

  return {
    wake,
    /** Claims again at `at` (epoch ms): a retry's backoff ends then. */
    wakeAt(at: number) {
      const timer = setTimeout(
        () => {
          dueTimers.delete(timer)
          wake()
        },
        Math.max(0, at - Date.now()),
      )
      timer.unref()
      dueTimers.add(timer)
    },
    start() {
      stopped = false
      poller = setInterval(wake, deps.pollMs)
      poller.unref()
      wake()
    },
    /** Claims no more; resolves once a claim under way has handed over what it took. */
    async stop() {
      stopped = true
      clearInterval(poller)
      for (const timer of dueTimers) clearTimeout(timer)
      dueTimers.clear()
      await claiming
    },
    /** Tasks of this node in an attempt right now, per executor. */
    running: () => new Map(running),
  }
}

function countBy(tasks: AbilityTask[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const t of tasks) counts.set(t.executorId, (counts.get(t.executorId) ?? 0) + 1)
  return counts
}

export type TaskClaimer = ReturnType<typeof createTaskClaimer>
