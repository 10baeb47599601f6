import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startGantry, type TestGantry, WEBHOOK_SECRET, waitForTask } from '../helpers.js'

const DEFS = 'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\n'

interface Received {
  headers: IncomingMessage['headers']
  body: string
  verified: unknown
}

/** A receiver that verifies signatures as a real one would, answering 500 to the first try. */
async function startReceiver() {
  const received: Received[] = []
  let failFirst = true
  const verifier = new Webhook(WEBHOOK_SECRET)
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      let verified: unknown
      try {
        verified = verifier.verify(body, req.headers as Record<string, string>)
      } catch (err) {
        verified = `refused: ${(err as Error).message}`
      }
      received.push({ headers: req.headers, body, verified })
      res.statusCode = failFirst ? 500 : 200
      failFirst = false
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise((r) => server.close(r)) }
}

describe('callbacks when a task ends', () => {
  let g: TestGantry
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  beforeAll(async () => {
    receiver = await startReceiver()
    g = await startGantry({
      files: { 'defs.yaml': DEFS },
      env: { GANTRY_ALLOW_PRIVATE_CALLBACKS: 'true', GANTRY_CALLBACK_BACKOFF: '50ms' },
    })
  })
  afterAll(async () => {
    await g.stop()
    await receiver.close()
  })

  it('POSTs a signed body that verifies with standardwebhooks, retries after a 500 with the same webhook-id, and shows the delivery on the task', async () => {
    const res = await g.api('/api/ability-tasks', {
      body: {
        abilityId: 'echo',
        inputs: { text: 'ping' },
        callbackUrl: receiver.url,
        callbackHeaders: { 'x-tenant': 'acme', 'webhook-signature': 'v1,forged' },
      },
    })
    const done = await waitForTask(g, res.body.id)
    await eventually(() => receiver.received.length >= 2)
    const [first, second] = receiver.received
    expect(second.verified).toMatchObject({
      status: 'succeeded',
      taskId: res.body.id,
      logId: done.logId,
      error: null,
      result: { texts: ['{"text":"ping"}'] },
    })
    expect(first.headers['webhook-id']).toBe(second.headers['webhook-id'])
    expect(second.headers['x-tenant']).toBe('acme')
    expect(second.headers['webhook-signature']).not.toContain('forged')
    const shown = await eventually(async () => {
      const t = (await g.api(`/api/ability-tasks/${res.body.id}`)).body
      return t.callback.status === 'delivered' ? t : undefined
    })
    expect(shown.callback).toMatchObject({
      url: receiver.url,
      status: 'delivered',
      attempts: 2,
      lastStatus: 200,
    })
  })

  it('refuses a callbackUrl on a private address unless allowed', async () => {
    const strict = await startGantry({ files: { 'defs.yaml': DEFS } })
    try {
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://10.0.0.8/x',
        'http://169.254.169.254/latest',
        'http://localhost/x',
      ]) {
        const res = await strict.api('/api/ability-tasks', { body: { abilityId: 'echo', callbackUrl: url } })
        expect(res.status).toBe(400)
        expect(res.body.error.code).toBe('VALIDATION_FAILED')
      }
      const sync = await strict.api('/api/abilities/echo/invoke', {
        body: { callbackUrl: 'http://127.0.0.1/x' },
      })
      expect(sync.status).toBe(400)
    } finally {
      await strict.stop()
    }
  })

  it('the sync invoke sends its callback too', async () => {
    const before = receiver.received.length
    const res = await g.api('/api/abilities/echo/invoke', {
      body: { inputs: { text: 'sync' }, callbackUrl: receiver.url },
    })
    expect(res.status).toBe(200)
    await eventually(() => receiver.received.length > before)
    expect(receiver.received.at(-1)!.verified).toMatchObject({ status: 'succeeded', logId: res.body.logId })
  })
})
