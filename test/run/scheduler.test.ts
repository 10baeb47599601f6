import { describe, expect, it } from 'vitest'
import { Scheduler } from '../../core/run/scheduler.js'

describe('Scheduler', () => {
  it('runs at most maxConcurrency at once and starts waiters by priority, then first-in first-out', async () => {
    const scheduler = new Scheduler()
    const order: string[] = []
    let running = 0
    let maxRunning = 0
    const first = await scheduler.acquire({ executorId: 'e', maxConcurrency: 1 })
    const waiters = (
      [
        ['low-1', 0],
        ['high', 10],
        ['low-2', 0],
        ['mid', 5],
      ] as const
    ).map(([name, priority]) =>
      scheduler.acquire({ executorId: 'e', maxConcurrency: 1, priority }).then(async (release) => {
        running++
        maxRunning = Math.max(maxRunning, running)
        order.push(name)
        await new Promise((r) => setTimeout(r, 5))
        running--
        release()
      }),
    )
    expect(scheduler.stats('e')).toEqual({ running: 1, waiting: 4, maxConcurrency: 1 })
    first()
    await Promise.all(waiters)
    expect(order).toEqual(['high', 'mid', 'low-1', 'low-2'])
    expect(maxRunning).toBe(1)
    expect(scheduler.stats('e')).toEqual({ running: 0, waiting: 0, maxConcurrency: 1 })
  })

  it('a canceled waiter leaves the queue without taking a slot', async () => {
    const scheduler = new Scheduler()
    const release = await scheduler.acquire({ executorId: 'e', maxConcurrency: 1 })
    const controller = new AbortController()
    const waiting = scheduler.acquire({ executorId: 'e', maxConcurrency: 1, signal: controller.signal })
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELED' })
    expect(scheduler.stats('e').waiting).toBe(0)
    release()
    expect(scheduler.stats('e').running).toBe(0)
  })

  it('raising the limit on reload starts waiting calls', async () => {
    const scheduler = new Scheduler()
    await scheduler.acquire({ executorId: 'e', maxConcurrency: 1 })
    let started = false
    const waiting = scheduler.acquire({ executorId: 'e', maxConcurrency: 1 }).then(() => (started = true))
    scheduler.setLimit('e', 2)
    await waiting
    expect(started).toBe(true)
    expect(scheduler.stats('e').running).toBe(2)
  })
})
