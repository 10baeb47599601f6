/**
 * Progress of a task, at most one per task per interval: the first goes out at
 * once, later ones replace each other and the latest goes out when the
 * interval ends. A status change cancels what is pending, so an old progress
 * never follows a newer status.
 */

export interface ProgressCoalescer<P> {
  /** Sends now, or keeps `progress` as the latest to send when the interval ends. */
  offer(taskId: string, progress: P): void
  /** Drops any pending progress of the task (call it before sending a status change). */
  cancel(taskId: string): void
  /** Drops everything pending and stops the timers. */
  clear(): void
}

/**
 * @example
 * const progress = createProgressCoalescer(500, (taskId, p) => publish(p))
 * progress.offer(task.id, { percent: 10 })
 */
export function createProgressCoalescer<P>(
  intervalMs: number,
  send: (taskId: string, progress: P) => void,
): ProgressCoalescer<P> {
  const open = new Map<string, { timer: NodeJS.Timeout; pending?: P }>()

  function arm(taskId: string): NodeJS.Timeout {
    const timer = setTimeout(function endInterval() {
      const state = open.get(taskId)
      if (!state || state.pending === undefined) {
        open.delete(taskId)
        return
      }
      const latest = state.pending
      state.pending = undefined
      state.timer = arm(taskId)
      send(taskId, latest)
    }, intervalMs)
    // a trailing progress is not worth keeping a stopping process alive for
    timer.unref()
    return timer
  }

  return {
    offer(taskId, progress) {
      const state = open.get(taskId)
      if (state) {
        state.pending = progress
        return
      }
      open.set(taskId, { timer: arm(taskId) })
      send(taskId, progress)
    },
    cancel(taskId) {
      const state = open.get(taskId)
      if (!state) return
      clearTimeout(state.timer)
      open.delete(taskId)
    },
    clear() {
      for (const state of open.values()) clearTimeout(state.timer)
      open.clear()
    },
  }
}
