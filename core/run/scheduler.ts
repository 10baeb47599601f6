import { GantryError } from '../errors.js'
import { PriorityQueue } from './priority-queue.js'

interface Waiter {
  grant(release: () => void): void
  fail(err: unknown): void
}

interface ExecutorSlots {
  limit: number
  running: number
  waiting: PriorityQueue<Waiter>
}

export interface SlotRequest {
  executorId: string
  maxConcurrency: number
  /** Higher runs first; equal priorities run first-in first-out. */
  priority?: number
  /** Aborting it gives up the wait (the call is canceled). */
  signal?: AbortSignal
}

/**
 * Keeps every executor within its `maxConcurrency`. A call takes a slot
 * before it reaches the pool and gives it back when it ends; the others
 * wait by priority, then first-in first-out.
 */
export class Scheduler {
  private readonly executors = new Map<string, ExecutorSlots>()

  /** Waits for a slot; returns the function that gives it back (safe to call twice). */
  acquire(req: SlotRequest): Promise<() => void> {
    const slots = this.slotsOf(req.executorId)
    slots.limit = req.maxConcurrency
    if (req.signal?.aborted) return Promise.reject(canceled())
    if (slots.running < slots.limit && slots.waiting.size === 0) {
      slots.running++
      return Promise.resolve(this.releaser(req.executorId))
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          req.signal?.removeEventListener('abort', onAbort)
          resolve(release)
        },
        fail: reject,
      }
      const onAbort = () => {
        if (slots.waiting.remove((w) => w === waiter)) reject(canceled())
      }
      req.signal?.addEventListener('abort', onAbort, { once: true })
      slots.waiting.push(waiter, req.priority ?? 0)
    })
  }

  /** A reload may change an executor's limit; waiting calls start if it grew. */
  setLimit(executorId: string, maxConcurrency: number): void {
    const slots = this.slotsOf(executorId)
    slots.limit = maxConcurrency
    this.drain(executorId)
  }

  stats(executorId: string): { running: number; waiting: number; maxConcurrency?: number } {
    const slots = this.executors.get(executorId)
    return { running: slots?.running ?? 0, waiting: slots?.waiting.size ?? 0, maxConcurrency: slots?.limit }
  }

  /** Fails every waiting call (shutdown). */
  rejectWaiting(err: unknown): void {
    for (const slots of this.executors.values()) {
      for (let w = slots.waiting.shift(); w; w = slots.waiting.shift()) w.fail(err)
    }
  }

  private slotsOf(executorId: string): ExecutorSlots {
    let slots = this.executors.get(executorId)
    if (!slots)
      this.executors.set(executorId, (slots = { limit: 1, running: 0, waiting: new PriorityQueue() }))
    return slots
  }

  private releaser(executorId: string): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.slotsOf(executorId).running--
      this.drain(executorId)
    }
  }

  private drain(executorId: string) {
    const slots = this.slotsOf(executorId)
    while (slots.running < slots.limit && slots.waiting.size > 0) {
      const waiter = slots.waiting.shift()!
      slots.running++
      waiter.grant(this.releaser(executorId))
    }
  }
}

const canceled = () => new GantryError('CANCELED', 'call canceled while waiting for its executor')
