import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AbilityTask } from '../../core/model/task.js'
import {
  type NotifyServer,
  openStream,
  receivedAtLeast,
  type StreamClient,
  sleep,
  startNotifyServer,
  token,
} from './notify-harness.js'

function task(status: AbilityTask['status'], progress: number): AbilityTask {
  return {
    id: 'task-1',
    seq: 1,
    priority: 0,
    abilityId: 'echo',
    executorId: 'mock',
    userId: 'alice',
    status,
    progress,
    attempts: 1,
    payload: { inputs: { prompt: 'hi' } },
    createdAt: Date.now(),
    startedAt: Date.now(),
    finishedAt: status === 'succeeded' ? Date.now() : undefined,
  }
}

describe('task progress on the stream', () => {
  let server: NotifyServer
  let client: StreamClient
  beforeEach(async () => {
    server = await startNotifyServer()
    client = openStream(server.url, { token: token('alice') })
    await client.opened
  })
  afterEach(async () => {
    client.close()
    await server.stop()
  })

  const progressEvents = () => client.events.filter((e) => e.payload.status === 'running')
  // what the task runner says of a running task beside its progress
  const running = { taskId: 'task-1', userId: 'alice', abilityId: 'echo', executorId: 'mock', attempts: 1 }

  it('coalesces a burst of progress to at most two events, the last with the latest percent', async () => {
    // in one turn: spread over time, a busy machine could stretch the burst past an interval
    for (let percent = 1; percent <= 20; percent++)
      server.bus.emit('ability-task.progress', { ...running, percent, stage: `step ${percent}` })
    await sleep(700)
    const seen = progressEvents()
    expect(seen.length).toBeGreaterThanOrEqual(1)
    expect(seen.length).toBeLessThanOrEqual(2)
    // the fields every task event carries, beside the progress
    expect(seen.at(-1)!.payload).toEqual({
      id: 'task-1',
      taskId: 'task-1',
      abilityId: 'echo',
      executorId: 'mock',
      userId: 'alice',
      status: 'running',
      progress: 20,
      stage: 'step 20',
      eta: null,
      attempts: 1,
      logId: null,
      updatedAt: expect.any(String),
      href: '/api/ability-tasks/task-1',
    })
  })

  it('delivers a status change at once, and no stale progress after it', async () => {
    for (let percent = 1; percent <= 20; percent++)
      server.bus.emit('ability-task.progress', { ...running, percent })
    server.bus.emit('ability-task.status', { task: task('succeeded', 100) })
    // a report from the worker that arrives after the end
    server.bus.emit('ability-task.progress', { ...running, percent: 99 })
    await receivedAtLeast(client, 2)
    await sleep(700)
    expect(client.events.map((e) => [e.payload.status, e.payload.progress])).toEqual([
      ['running', 1],
      ['succeeded', 100],
    ])
    expect(client.events[1].payload).toMatchObject({
      id: 'task-1',
      userId: 'alice',
      finishedAt: expect.any(String),
    })
  })

  it('never drops or merges status changes', async () => {
    server.bus.emit('ability-task.status', { task: task('queued', 0) })
    server.bus.emit('ability-task.status', { task: task('running', 0) })
    server.bus.emit('ability-task.status', { task: task('succeeded', 100) })
    await receivedAtLeast(client, 3)
    expect(client.events.map((e) => e.payload.status)).toEqual(['queued', 'running', 'succeeded'])
  })
})
