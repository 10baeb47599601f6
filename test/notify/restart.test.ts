import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createNotifier } from '../../core/notify/notifier.js'
import { makeTempDir } from '../helpers.js'
import {
  type NotifyServer,
  openStream,
  receivedAtLeast,
  type StreamClient,
  startNotifyServer,
  token,
} from './notify-harness.js'

describe('the replay log across a restart', () => {
  let server: NotifyServer | undefined
  let client: StreamClient | undefined
  afterEach(async () => {
    client?.close()
    await server?.stop()
  })

  it('continues ids and replays what a client missed before the restart', async () => {
    const first = await startNotifyServer()
    for (let i = 1; i <= 5; i++) first.notifier.publish('wallet.points', 'alice', { n: i })
    await first.stop({ keep: true })

    server = await startNotifyServer({ dataDir: first.dataDir })
    expect(server.notifier.lastId()).toBe(5)
    client = openStream(server.url, { token: token('alice'), lastEventId: 3 })
    await client.opened
    expect(server.notifier.publish('wallet.points', 'alice', { n: 6 }).id).toBe(6)
    await receivedAtLeast(client, 3)
    expect(client.events.map((e) => [e.id, e.payload.n])).toEqual([
      [4, 4],
      [5, 5],
      [6, 6],
    ])
  })

  it('drops old segment files once their events are outside the window, and still replays the window', async () => {
    const dataDir = await makeTempDir('gantry-notify-')
    const opts = { dataDir, maxEvents: 20, maxSegmentBytes: 2048 }
    const notifier = createNotifier(opts)
    await notifier.open()
    for (let i = 1; i <= 3000; i++) notifier.publish('wallet.points', 'alice', { n: i, pad: 'x'.repeat(50) })
    // retention runs every 1000 events; let the writes it waits on land
    await new Promise((resolve) => setTimeout(resolve, 100))
    await notifier.close()
    const files = await readdir(join(dataDir, 'events'))
    // 3000 events of ~130 bytes fill ~190 segments; only the recent few remain
    expect(files.length).toBeLessThan(30)

    server = await startNotifyServer({ dataDir, notifier: { maxEvents: 20, maxSegmentBytes: 2048 } })
    expect(server.notifier.lastId()).toBe(3000)
    expect(server.notifier.since(2990)).toMatchObject({ reset: false, events: { length: 10 } })
    expect(server.notifier.since(2970).reset).toBe(true)
  })

  it('forgets events older than maxAgeMs', async () => {
    server = await startNotifyServer({ notifier: { maxAgeMs: 100 } })
    server.notifier.publish('wallet.points', 'alice', { n: 1 })
    await new Promise((resolve) => setTimeout(resolve, 150))
    server.notifier.publish('wallet.points', 'alice', { n: 2 })
    expect(server.notifier.since(1)).toMatchObject({ reset: false, events: [{ id: 2 }] })
    expect(server.notifier.since(0).reset).toBe(true)
  })
})
