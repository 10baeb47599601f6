import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually } from '../helpers.js'
import {
  type NotifyServer,
  openStream,
  receivedAtLeast,
  type StreamClient,
  sleep,
  startNotifyServer,
  token,
} from './notify-harness.js'

const points = (userId: string, balance: number) => ({
  userId,
  status: 'granted' as const,
  points: 10,
  balance,
  available: balance,
})

describe('GET /api/notify/v1/stream', () => {
  let server: NotifyServer
  const clients: StreamClient[] = []
  const open = (...args: Parameters<typeof openStream>) => {
    const client = openStream(...args)
    clients.push(client)
    return client
  }

  beforeEach(async () => {
    server = await startNotifyServer({ notifier: { maxEvents: 50 }, routes: { heartbeatMs: 100 } })
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await server.stop()
  })

  it('answers an event stream that tells the client how long to wait before reconnecting', async () => {
    const res = await fetch(server.url + '/stream', {
      headers: { authorization: `Bearer ${token('alice')}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const reader = res.body!.getReader()
    const { value } = await reader.read()
    expect(new TextDecoder().decode(value)).toMatch(/^retry: 3000\n\n/)
    await reader.cancel()
  })

  it('gives each user only its own events, and an admin everyone’s', async () => {
    const alice = open(server.url, { token: token('alice') })
    const bob = open(server.url, { token: token('bob') })
    const admin = open(server.url, { token: token('root', 'admin') })
    await Promise.all([alice.opened, bob.opened, admin.opened])

    server.bus.emit('wallet.points', points('alice', 110))
    server.bus.emit('wallet.points', points('bob', 220))
    server.bus.emit('ability-log.created', {
      logId: 'log-1',
      abilityId: 'echo',
      executorId: 'mock',
      userId: 'bob',
      status: 'succeeded',
      durationMs: 5,
      createdAt: new Date().toISOString(),
    })

    await receivedAtLeast(admin, 3)
    await receivedAtLeast(bob, 2)
    await receivedAtLeast(alice, 1)
    await sleep(100)
    expect(alice.events).toEqual([{ id: 1, type: 'wallet.points', payload: points('alice', 110) }])
    expect(bob.events.map((e) => [e.id, e.type, e.payload.userId])).toEqual([
      [2, 'wallet.points', 'bob'],
      [3, 'ability-log.created', 'bob'],
    ])
    expect(admin.events.map((e) => e.id)).toEqual([1, 2, 3])
  })

  it('sends only the types asked for with ?types=', async () => {
    const client = open(server.url, { token: token('alice'), query: 'types=workflow-job.status' })
    await client.opened
    server.bus.emit('wallet.points', points('alice', 1))
    server.bus.emit('workflow-job.status', {
      jobId: 'job-1',
      userId: 'alice',
      status: 'running',
      progress: 50,
      job: { id: 'job-1', status: 'running', progress: 50 },
    })
    await receivedAtLeast(client, 1)
    await sleep(100)
    expect(client.events).toEqual([
      {
        id: 2,
        type: 'workflow-job.status',
        payload: expect.objectContaining({ id: 'job-1', status: 'running', progress: 50 }),
      },
    ])
  })

  it('replays what a client missed after its Last-Event-ID, then goes on live', async () => {
    for (let i = 1; i <= 5; i++) server.notifier.publish('wallet.points', i % 2 ? 'alice' : 'bob', { n: i })
    const client = open(server.url, { token: token('alice'), lastEventId: 1 })
    await client.opened
    server.notifier.publish('wallet.points', 'alice', { n: 6 })
    await receivedAtLeast(client, 3)
    expect(client.events.map((e) => [e.id, e.payload.n])).toEqual([
      [3, 3],
      [5, 5],
      [6, 6],
    ])
  })

  it('accepts the last id as ?lastEventId= too', async () => {
    for (let i = 1; i <= 3; i++) server.notifier.publish('wallet.points', 'alice', { n: i })
    const client = open(server.url, { token: token('alice'), query: 'lastEventId=2' })
    await receivedAtLeast(client, 1)
    await sleep(50)
    expect(client.events.map((e) => e.id)).toEqual([3])
  })

  it('sends reset when the Last-Event-ID is older than the replay window', async () => {
    // the window holds 50 events: after 60, events 1..10 are gone
    for (let i = 1; i <= 60; i++) server.notifier.publish('wallet.points', 'alice', { n: i })
    const client = open(server.url, { token: token('alice'), lastEventId: 5 })
    await client.opened
    server.notifier.publish('wallet.points', 'alice', { n: 61 })
    await receivedAtLeast(client, 2)
    expect(client.events[0]).toEqual({
      id: 60,
      type: 'reset',
      payload: { reason: expect.any(String) },
    })
    expect(client.events.slice(1).map((e) => e.id)).toEqual([61])
  })

  it('replays without reset from the oldest id still held', async () => {
    for (let i = 1; i <= 60; i++) server.notifier.publish('wallet.points', 'alice', { n: i })
    const client = open(server.url, { token: token('alice'), lastEventId: 10 })
    await receivedAtLeast(client, 50)
    await sleep(50)
    expect(client.events[0].id).toBe(11)
    expect(client.events.map((e) => e.type)).not.toContain('reset')
    expect(client.events).toHaveLength(50)
  })

  it('sends reset for a Last-Event-ID it never issued', async () => {
    server.notifier.publish('wallet.points', 'alice', { n: 1 })
    const client = open(server.url, { token: token('alice'), lastEventId: 999 })
    await receivedAtLeast(client, 1)
    expect(client.events[0]).toMatchObject({ id: 1, type: 'reset' })
  })

  it('keeps the stream alive with a comment every heartbeat', async () => {
    const res = await fetch(server.url + '/stream', {
      headers: { authorization: `Bearer ${token('alice')}` },
    })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while (!text.includes(': ping\n\n')) {
      const { value, done } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    await reader.cancel()
    // the loop above waited for it; how soon depends on a busy machine, so the test does not time it
    expect(text).toContain(': ping\n\n')
  })

  it('loses no event and repeats none while events are published during the connect', async () => {
    let n = 0
    const publishing = setInterval(() => {
      for (let i = 0; i < 5; i++) server.notifier.publish('wallet.points', 'alice', { n: ++n })
    }, 1)
    try {
      await eventually(() => server.notifier.lastId() >= 20)
      const from = server.notifier.lastId() - 10
      const client = open(server.url, { token: token('alice'), lastEventId: from })
      await client.opened
      await receivedAtLeast(client, 100)
      clearInterval(publishing)
      const last = server.notifier.lastId()
      await eventually(() => client.events.at(-1)?.id === last)
      const ids = client.events.map((e) => e.id)
      expect(ids).toEqual(Array.from({ length: last - from }, (_, i) => from + 1 + i))
    } finally {
      clearInterval(publishing)
    }
  })

  it('stops delivering to a client that went away', async () => {
    const client = open(server.url, { token: token('alice') })
    await client.opened
    expect(server.notifier.subscribers()).toBe(1)
    client.close()
    await eventually(() => server.notifier.subscribers() === 0)
  })
})
