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

describe('a client that cannot keep up', () => {
  let server: NotifyServer
  let client: StreamClient | undefined
  afterEach(async () => {
    client?.close()
    await server.stop()
  })

  it('is cut off instead of buffered without bound, while a reading client keeps its stream', async () => {
    server = await startNotifyServer({ routes: { maxQueued: 20 } })
    const res = await fetch(server.url + '/stream', {
      headers: { authorization: `Bearer ${token('alice')}` },
    })
    const stalled = res.body!.getReader()
    client = openStream(server.url, { token: token('alice') })
    await client.opened
    expect(server.notifier.subscribers()).toBe(2)

    // 64 KB each, a few at a time: far more than socket buffers and 20 queued events hold
    const big = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 400 && server.notifier.subscribers() === 2; i++) {
      server.notifier.publish('wallet.points', 'alice', { n: i, big })
      if (i % 2 === 1) await sleep(1)
    }
    await eventually(() => server.notifier.subscribers() === 1)

    // what the stalled client holds ends: the server closed it
    const ended = (async () => {
      try {
        for (;;) if ((await stalled.read()).done) return 'closed'
      } catch {
        return 'closed'
      }
    })()
    expect(await ended).toBe('closed')

    // the client that reads got everything, and is still connected
    const sent = server.notifier.lastId()
    await receivedAtLeast(client, sent)
    server.notifier.publish('wallet.points', 'alice', { n: 'after' })
    await receivedAtLeast(client, sent + 1)
  })

  it('is not cut off for a replay longer than its queue', async () => {
    server = await startNotifyServer({ routes: { maxQueued: 20 } })
    for (let i = 1; i <= 500; i++) server.notifier.publish('wallet.points', 'alice', { n: i })
    client = openStream(server.url, { token: token('alice'), lastEventId: 0 })
    await receivedAtLeast(client, 500)
    expect(client.events.map((e) => e.id)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
    expect(server.notifier.subscribers()).toBe(1)
  })

  it('is cut off when a write stalls, even with room in its queue', async () => {
    server = await startNotifyServer({ routes: { writeTimeoutMs: 200 } })
    const res = await fetch(server.url + '/stream', {
      headers: { authorization: `Bearer ${token('alice')}` },
    })
    const stalled = res.body!.getReader()
    const big = 'x'.repeat(256 * 1024)
    for (let i = 0; i < 60 && server.notifier.subscribers() === 1; i++) {
      server.notifier.publish('wallet.points', 'alice', { n: i, big })
      await sleep(5)
    }
    await eventually(() => server.notifier.subscribers() === 0)
    await stalled.cancel().catch(() => {})
  })
})
