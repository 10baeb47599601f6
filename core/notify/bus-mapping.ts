/** Which bus events become client events, for whom, and with what payload (README, Events). */
import type { EventBus } from '../events/bus.js'
import type { GantryEvents } from '../events/types.js'
import { jobSummary, progressSummary, taskSummary } from './event-payloads.js'
import { createProgressCoalescer } from './progress-coalescer.js'

type Publish = (type: string, userId: string, payload: unknown) => void
type Progress = GantryEvents['ability-task.progress']

const ENDED = new Set(['succeeded', 'failed', 'canceled'])
const REMEMBER_ENDED = 10_000

/**
 * Subscribes to the bus and publishes what clients see; returns a detach.
 * Status changes always go out; progress is coalesced per task. Task and job
 * events carry a summary and a link to the whole (see event-payloads.ts).
 */
export function mapBusToNotifications(
  bus: EventBus,
  publish: Publish,
  progressIntervalMs: number,
): () => void {
  const progress = createProgressCoalescer<Progress>(progressIntervalMs, (_taskId, p) =>
    publish('ability-task.status', p.userId, progressSummary(p, Date.now())),
  )
  // a progress report that arrives after the task ended (a late worker message) would
  // show the task running again; remember recent ends to drop such reports
  const ended = new Set<string>()

  const detach = [
    bus.on('ability-task.status', ({ task }) => {
      progress.cancel(task.id)
      if (ENDED.has(task.status)) {
        ended.add(task.id)
        if (ended.size > REMEMBER_ENDED) ended.delete(ended.values().next().value!)
      } else {
        ended.delete(task.id)
      }
      publish('ability-task.status', task.userId, taskSummary(task, Date.now()))
    }),
    bus.on('ability-task.progress', (p) => {
      if (!ended.has(p.taskId)) progress.offer(p.taskId, p)
    }),
    bus.on('wallet.points', (p) => publish('wallet.points', p.userId, p)),
    bus.on('ability-log.created', (p) => publish('ability-log.created', p.userId, p)),
    bus.on('workflow-job.status', (p) => publish('workflow-job.status', p.userId, jobSummary(p, Date.now()))),
  ]

  return function detachBus() {
    for (const off of detach) off()
    progress.clear()
  }
}
