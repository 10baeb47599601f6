/**
 * The replay window and each stream's queue are bounded by bytes as well as
 * by count, an event is formatted once however many streams send it, and a
 * replay log written when events held whole tasks comes back as summaries
 * (issue 12, item 9).
 */
import { afterEach, describe, expect, it } from 'vitest'
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

const KB = 1024

describe('byte bounds of the replay window and of a stream', () => {
  let server: NotifyServer
  let clients: StreamClient[] = []
  afterEach(async () => {
    for (const c of clients) c.close()
    clients = []
    await server.stop()
  })
  const open = (...args: Parameters<typeof openStream>) => {
    const client = openStream(...args)
    clients.push(client)
    return client
  }

  it('keeps at most maxBytes of events to replay; an older Last-Event-ID gets a reset', async () => {
    server = await startNotifyServer({ notifier: { maxBytes: 64 * KB } })
    const big = 'x'.repeat(4 * KB)
    for (let i = 1; i <= 100; i++) server.notifier.publish('wallet.points', 'alice', { n: i, big })
    const last = server.notifier.lastId()

    // what the window holds fits its budget: the newest 15 of these, not 100 (nor 10,000)
    const { events: held } = server.notifier.since(last - 100)
    const bytes = held.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e.payload)), 0)
    expect(bytes).toBeLessThanOrEqual(64 * KB)
    expect(held.length).toBeGreaterThan(10)
    expect(held.length).toBeLessThan(20)
    expect(held.at(-1)!.id).toBe(last)

    const fromStart = open(server.url, { token: token('alice'), lastEventId: 0 })
    await receivedAtLeast(fromStart, 1)
    expect(fromStart.events[0].type).toBe('reset')

    const recent = open(server.url, { token: token('alice'), lastEventId: last - 5 })
    await receivedAtLeast(recent, 5)
    expect(recent.events.map((e) => e.payload.n)).toEqual([96, 97, 98, 99, 100])
  })

  it('cuts off a client whose queue passes its byte budget, long before its count', async () => {
    // 1,000 events of 64 KB would be 64 MB waiting: the budget is 1 MB
    server = await startNotifyServer({ routes: { maxQueued: 1000, maxQueuedBytes: 1024 * KB } })
    const res = await fetch(server.url + '/stream', {
      headers: { authorization: `Bearer ${token('alice')}` },
    })
    const stalled = res.body!.getReader()
    const reading = open(server.url, { token: token('alice') })
    await reading.opened
    expect(server.notifier.subscribers()).toBe(2)

    const big = 'x'.repeat(64 * KB)
    let published = 0
    for (; published < 400 && server.notifier.subscribers() === 2; published++) {
      server.notifier.publish('wallet.points', 'alice', { n: published, big })
      if (published % 2 === 1) await sleep(1)
    }
    await eventually(() => server.notifier.subscribers() === 1, 5000)
    const ended = (async () => {
      try {
        for (;;) if ((await stalled.read()).done) return 'closed'
      } catch {
        return 'closed'
      }
    })()
    expect(await ended).toBe('closed')
    // the client that reads got everything and stays connected
    await receivedAtLeast(reading, server.notifier.lastId(), 10_000)
    expect(server.notifier.subscribers()).toBe(1)
  })

  it('brings back the whole-task events of an earlier version as summaries after a restart', async () => {
    server = await startNotifyServer()
    const prompt = 'p'.repeat(256 * KB)
    // what a status event held before: the task as GET /api/ability-tasks/:id shows it
    server.notifier.publish('ability-task.status', 'alice', {
      id: 'old-1',
      abilityId: 'echo',
      executorId: 'mock',
      userId: 'alice',
      status: 'succeeded',
      progress: 100,
      attempts: 1,
      logId: 'log-1',
      inputs: { prompt },
      metadata: { note: prompt },
      resultPayload: { texts: [prompt], raw: { prompt } },
      errorCode: null,
      errorMessage: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: '2026-01-01T00:00:02.000Z',
    })
    const { dataDir } = server
    await server.stop({ keep: true })
    server = await startNotifyServer({ dataDir })

    const client = open(server.url, { token: token('alice'), lastEventId: 0 })
    await receivedAtLeast(client, 1)
    const [e] = client.events
    expect(e.payload).toMatchObject({
      id: 'old-1',
      taskId: 'old-1',
      abilityId: 'echo',
      status: 'succeeded',
      logId: 'log-1',
      href: '/api/ability-tasks/old-1',
    })
    expect(e.payload).not.toHaveProperty('inputs')
    expect(e.payload).not.toHaveProperty('resultPayload')
    expect(JSON.stringify(e.payload).length).toBeLessThan(1024)
  })

  it('formats an event once, however many streams send it live or replay it', async () => {
    server = await startNotifyServer()
    const live = Array.from({ length: 20 }, () => open(server.url, { token: token('alice') }))
    await Promise.all(live.map((c) => c.opened))
    // JSON.stringify calls toJSON each time it formats the payload
    let formatted = 0
    const payload = {
      n: 1,
      toJSON() {
        formatted++
        return { n: 1 }
      },
    }
    server.notifier.publish('wallet.points', 'alice', payload)
    await Promise.all(live.map((c) => receivedAtLeast(c, 1)))
    const replaying = Array.from({ length: 20 }, () =>
      open(server.url, { token: token('alice'), lastEventId: 0 }),
    )
    await Promise.all(replaying.map((c) => receivedAtLeast(c, 1)))
    for (const c of [...live, ...replaying]) expect(c.events[0].payload).toEqual({ n: 1 })
    // once for the streams, once for the replay log on disk
    expect(formatted).toBeLessThanOrEqual(2)
  })
})
