import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { deliverOnce } from '../../core/callbacks/deliver.js'
import { newWebhookId, signWebhook } from '../../core/callbacks/sign.js'
import { pendingDelivery, type Receiver, SECRET, startReceiver, webhookHeaders } from './helpers.js'

const send = { secret: SECRET, allowPrivate: true, timeoutMs: 5000 }
let receiver: Receiver

afterEach(() => receiver?.close())

describe('signed callbacks', () => {
  it('a receiver verifies the signature with standardwebhooks and gets the exact body', async () => {
    receiver = await startReceiver()
    const delivery = pendingDelivery(`${receiver.url}/hooks/gantry?x=1`)

    const result = await deliverOnce(delivery, send)

    expect(result).toEqual({ ok: true, status: 200 })
    const [req] = receiver.received
    expect(req.method).toBe('POST')
    expect(req.path).toBe('/hooks/gantry?x=1')
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.headers['webhook-id']).toBe(delivery.id)
    expect(Number(req.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1)
    const verified = new Webhook(SECRET).verify(req.body, webhookHeaders(req))
    expect(verified).toEqual(delivery.body)
    expect(Object.keys(JSON.parse(req.body)).sort()).toEqual(
      ['error', 'logId', 'result', 'status', 'taskId', 'timestamp'].sort(),
    )
  })

  it('a receiver holding another secret rejects the callback', async () => {
    receiver = await startReceiver()
    await deliverOnce(pendingDelivery(receiver.url), send)

    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`)
    const [req] = receiver.received
    expect(() => other.verify(req.body, webhookHeaders(req))).toThrow(/signature/i)
  })

  it("the caller's callbackHeaders arrive, but cannot replace the signature headers or content-type", async () => {
    receiver = await startReceiver()
    const delivery = pendingDelivery(receiver.url, {
      headers: {
        Authorization: 'Bearer receiver-token',
        'X-Tenant': 'acme',
        'webhook-signature': 'v1,forged',
        'Webhook-Id': 'msg_forged',
        'WEBHOOK-TIMESTAMP': '1',
        'Content-Type': 'text/plain',
      },
    })

    await deliverOnce(delivery, send)

    const [req] = receiver.received
    expect(req.headers.authorization).toBe('Bearer receiver-token')
    expect(req.headers['x-tenant']).toBe('acme')
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.headers['webhook-id']).toBe(delivery.id)
    expect(req.headers['webhook-signature']).not.toContain('forged')
    // node joins repeated headers with ', ': exactly one of each means nothing was added beside ours
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(new Webhook(SECRET).verify(req.body, webhookHeaders(req))).toEqual(delivery.body)
  })

  it('signs exactly as the reference library does', () => {
    const id = newWebhookId()
    const at = new Date(1_700_000_000_000)
    const body = JSON.stringify({ status: 'failed', error: { code: 'TIMEOUT' } })
    expect(id).toMatch(/^msg_[0-9a-f-]{36}$/)
    expect(signWebhook(SECRET, id, 1_700_000_000, body)).toBe(new Webhook(SECRET).sign(id, at, body))
  })

  it('refuses a secret that is not base64, instead of signing with a key nobody has', () => {
    expect(() => signWebhook('whsec_not*base64!', 'msg_1', 1, '{}')).toThrow(/whsec_/)
  })
})
