import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { type CallbackDispatcher, createCallbackDispatcher } from '../../core/callbacks/dispatcher.js'
import { createMemoryOutbox, type MemoryOutbox } from '../../core/callbacks/memory-outbox.js'
import type { DeliveryPolicy } from '../../core/model/callback.js'
import {
  pendingDelivery,
  type Receiver,
  type Reply,
  SECRET,
  startReceiver,
  waitFor,
  webhookHeaders,
} from './helpers.js'

const tiny: Partial<DeliveryPolicy> = { baseDelayMs: 20, maxDelayMs: 40, timeoutMs: 2000 }
const cleanup: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function receiverThat(reply: (n: number) => Reply | Promise<Reply>): Promise<Receiver> {
  const receiver = await startReceiver(reply)
  cleanup.push(() => receiver.close())
  return receiver
}

function dispatcherFor(
  outbox: MemoryOutbox,
  opts: { policy?: Partial<DeliveryPolicy>; concurrency?: number; now?: () => number } = {},
) {
  const logs: { level: string; msg: string }[] = []
  const dispatcher: CallbackDispatcher = createCallbackDispatcher({
    outbox,
    secret: SECRET,
    allowPrivate: true,
    pollIntervalMs: 5,
    policy: { ...tiny, ...opts.policy },
    concurrency: opts.concurrency,
    now: opts.now,
    log: (level, msg) => logs.push({ level, msg }),
  })
  cleanup.push(() => dispatcher.stop())
  return { dispatcher, logs }
}

describe('callback dispatcher', () => {
  it('retries after a 500 with the same webhook-id and a fresh signature, then ends delivered', async () => {
    const receiver = await receiverThat((n) =>
      n === 0 ? { status: 500, body: 'database down' } : { status: 200 },
    )
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(receiver.url)
    outbox.add(delivery)
    const { dispatcher } = dispatcherFor(outbox)

    dispatcher.start()
    await waitFor(() => outbox.get(delivery.id)?.status === 'delivered')

    const [first, second] = receiver.received
    expect(receiver.received).toHaveLength(2)
    expect(first.headers['webhook-id']).toBe(delivery.id)
    expect(second.headers['webhook-id']).toBe(delivery.id)
    expect(second.headers['webhook-signature']).toMatch(/^v1,/)
    const hook = new Webhook(SECRET)
    expect(hook.verify(first.body, webhookHeaders(first))).toEqual(delivery.body)
    expect(hook.verify(second.body, webhookHeaders(second))).toEqual(delivery.body)
    expect(outbox.get(delivery.id)).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 })
    expect(outbox.get(delivery.id)?.deliveredAt).toBeGreaterThanOrEqual(delivery.createdAt)
  })

  it('signs each try with its own timestamp', async () => {
    let clockSkew = 0
    const receiver = await receiverThat((n) => ({ status: n === 0 ? 502 : 200 }))
    const outbox = createMemoryOutbox([pendingDelivery(receiver.url)])
    const { dispatcher } = dispatcherFor(outbox, { now: () => Date.now() + clockSkew })

    await dispatcher.drain()
    await new Promise((r) => setTimeout(r, 1100)) // webhook-timestamp counts whole seconds
    clockSkew = 60_000
    await dispatcher.drain()

    const [first, second] = receiver.received
    expect(Number(second.headers['webhook-timestamp'])).toBeGreaterThan(
      Number(first.headers['webhook-timestamp']),
    )
    expect(second.headers['webhook-signature']).not.toBe(first.headers['webhook-signature'])
  })

  it('stops for good when the receiver answers 410 Gone', async () => {
    const receiver = await receiverThat(() => ({ status: 410 }))
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(receiver.url)
    outbox.add(delivery)
    const { dispatcher, logs } = dispatcherFor(outbox)

    dispatcher.start()
    await waitFor(() => outbox.get(delivery.id)?.status !== 'pending')
    await new Promise((r) => setTimeout(r, 100))

    expect(outbox.get(delivery.id)).toMatchObject({ status: 'stopped', attempts: 1, lastStatus: 410 })
    expect(receiver.received).toHaveLength(1)
    expect(logs).toContainEqual({ level: 'warn', msg: expect.stringContaining('410') })
  })

  it('treats a 302 as a failure and does not follow its Location', async () => {
    const target = await receiverThat(() => ({ status: 200 }))
    const redirecting = await receiverThat(() => ({
      status: 302,
      headers: { location: `${target.url}/elsewhere` },
    }))
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(redirecting.url)
    outbox.add(delivery)
    // a stopped clock: the retry is never due, so drain() returns after one try
    const at = Date.now()
    const { dispatcher } = dispatcherFor(outbox, { now: () => at })

    await dispatcher.drain()

    expect(outbox.get(delivery.id)).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 302 })
    expect(outbox.get(delivery.id)?.lastError).toContain('not followed')
    expect(redirecting.received).toHaveLength(1)
    expect(target.received).toHaveLength(0)
  })

  it('waits at least as long as Retry-After says', async () => {
    const receiver = await receiverThat(() => ({ status: 429, headers: { 'retry-after': '120' } }))
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(receiver.url, { nextAttemptAt: 1000, createdAt: 1000 })
    outbox.add(delivery)
    const { dispatcher } = dispatcherFor(outbox, { now: () => 1000 })

    await dispatcher.drain()

    const after = outbox.get(delivery.id)
    expect(after).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 429 })
    expect(after?.nextAttemptAt).toBeGreaterThanOrEqual(1000 + 120_000)
  })

  it("gives up as 'failed' after maxAttempts tries", async () => {
    const receiver = await receiverThat(() => ({ status: 500, body: 'x'.repeat(5000) }))
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(receiver.url)
    outbox.add(delivery)
    const { dispatcher, logs } = dispatcherFor(outbox, {
      policy: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
    })

    dispatcher.start()
    await waitFor(() => outbox.get(delivery.id)?.status === 'failed')
    await new Promise((r) => setTimeout(r, 100))

    const after = outbox.get(delivery.id)
    expect(after).toMatchObject({ status: 'failed', attempts: 3, lastStatus: 500 })
    expect(after?.lastError?.length).toBeLessThanOrEqual(200)
    expect(receiver.received).toHaveLength(3)
    expect(logs).toContainEqual({ level: 'error', msg: expect.stringContaining('giving up') })
  })

  it('fails a try the receiver never answers, within timeoutMs', async () => {
    const receiver = await receiverThat(() => 'hang')
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(receiver.url)
    outbox.add(delivery)
    const at = Date.now()
    const { dispatcher } = dispatcherFor(outbox, { policy: { timeoutMs: 300 }, now: () => at })

    // the receiver never answers: drain returns only because the try timed out
    await dispatcher.drain()

    expect(outbox.get(delivery.id)).toMatchObject({ status: 'pending', attempts: 1 })
    expect(outbox.get(delivery.id)?.lastError).toMatch(/no answer within 300 ms/)
  })

  it('sends at most `concurrency` at once and never the same delivery twice at once', async () => {
    const receiver = await receiverThat(async () => {
      await new Promise((r) => setTimeout(r, 100))
      return { status: 200 }
    })
    const outbox = createMemoryOutbox()
    for (let i = 0; i < 5; i++) outbox.add(pendingDelivery(receiver.url))
    const { dispatcher } = dispatcherFor(outbox, { concurrency: 2 })

    dispatcher.start()
    for (let i = 0; i < 20; i++) dispatcher.kick()
    await dispatcher.drain()

    expect(outbox.all().map((d) => d.status)).toEqual(Array(5).fill('delivered'))
    expect(receiver.received).toHaveLength(5)
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(5)
    expect(receiver.maxActive).toBeLessThanOrEqual(2)
  })

  it('stop() waits for the tries under way', async () => {
    const receiver = await receiverThat(async () => {
      await new Promise((r) => setTimeout(r, 150))
      return { status: 204 }
    })
    const outbox = createMemoryOutbox()
    const delivery = pendingDelivery(receiver.url)
    outbox.add(delivery)
    const { dispatcher } = dispatcherFor(outbox)

    dispatcher.start()
    await waitFor(() => receiver.received.length === 1)
    await dispatcher.stop()

    expect(outbox.get(delivery.id)?.status).toBe('delivered')
  })

  it('refuses a bad policy or secret when created', () => {
    const outbox = createMemoryOutbox()
    expect(() =>
      createCallbackDispatcher({ outbox, secret: SECRET, allowPrivate: false, policy: { maxAttempts: 0 } }),
    ).toThrow(/policy.maxAttempts/)
    expect(() => createCallbackDispatcher({ outbox, secret: 'whsec_???', allowPrivate: false })).toThrow(
      /whsec_/,
    )
  })
})
