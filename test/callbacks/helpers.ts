/**
 * Test helpers for callbacks: a real HTTP receiver on 127.0.0.1 that records
 * what arrives and answers as told, and deliveries to send to it.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { newWebhookId } from '../../core/callbacks/sign.js'
import type { CallbackDelivery } from '../../core/model/callback.js'
import { WAIT_MS } from '../helpers.js'

export const SECRET = `whsec_${randomBytes(32).toString('base64')}`

export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

/** How the receiver answers one request; 'hang' never answers. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang'

export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** Requests being handled right now, and the most there ever were at once. */
  active: number
  maxActive: number
  close(): Promise<void>
}

/** Starts a receiver; `reply(n)` says how to answer the n-th request (0-based). Defaults to 200. */
export async function startReceiver(
  reply: (n: number, req: Received) => Reply | Promise<Reply> = () => ({ status: 200 }),
): Promise<Receiver> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk)
    const received: Received = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    }
    const n = receiver.received.push(received) - 1
    receiver.active++
    receiver.maxActive = Math.max(receiver.maxActive, receiver.active)
    const answer = await reply(n, received)
    receiver.active--
    if (answer === 'hang') return
    res.writeHead(answer.status, answer.headers).end(answer.body ?? '')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}`,
    port,
    received: [],
    active: 0,
    maxActive: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  return receiver
}

/** A pending delivery, due now, as the store writes it when a task ends. */
export function pendingDelivery(url: string, extra: Partial<CallbackDelivery> = {}): CallbackDelivery {
  const now = Date.now()
  const taskId = `task_${randomBytes(4).toString('hex')}`
  return {
    id: newWebhookId(),
    url,
    headers: {},
    body: {
      status: 'succeeded',
      result: { text: 'hello' },
      error: null,
      logId: 'log_1',
      taskId,
      timestamp: now,
    },
    userId: 'alice',
    taskId,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    ...extra,
  }
}

/** Waits until `check` returns true, polling; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The signature headers as a receiver's library wants them. */
export function webhookHeaders(req: Received): Record<string, string> {
  return {
    'webhook-id': String(req.headers['webhook-id']),
    'webhook-timestamp': String(req.headers['webhook-timestamp']),
    'webhook-signature': String(req.headers['webhook-signature']),
  }
}
