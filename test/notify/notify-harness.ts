/**
 * A small real server for the notify tests: the notify routes behind the
 * app's error handler, on a real port, with a bus attached to a notifier on
 * a temp data dir; and an EventSource client that records what it receives.
 */
import { rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { EventSource } from 'eventsource'
import { Hono } from 'hono'
import { signToken } from '../../core/auth/jwt.js'
import { createEventBus, type EventBus } from '../../core/events/bus.js'
import type { AppEnv } from '../../core/http/env.js'
import { errorResponse } from '../../core/http/errors.js'
import { type NotifyRoutesDeps, notifyRoutes } from '../../core/http/routes/notify.js'
import { createTicketStore, type TicketStore } from '../../core/http/tickets.js'
import { createNotifier, type Notifier, type NotifierOptions } from '../../core/notify/notifier.js'
import { eventually, makeTempDir, WAIT_MS } from '../helpers.js'

export const JWT = { secret: 'notify-test-secret' }
export const token = (sub: string, role: 'user' | 'admin' = 'user') => signToken({ sub, role }, JWT)

export interface NotifyServer {
  url: string
  dataDir: string
  bus: EventBus
  notifier: Notifier
  tickets: TicketStore
  /** Stops the server and the notifier; `keep` leaves the data dir for a restart. */
  stop(opts?: { keep?: boolean }): Promise<void>
}

export async function startNotifyServer(
  opts: {
    dataDir?: string
    notifier?: Partial<NotifierOptions>
    routes?: Partial<Omit<NotifyRoutesDeps, 'notifier' | 'jwt'>>
  } = {},
): Promise<NotifyServer> {
  const dataDir = opts.dataDir ?? (await makeTempDir('gantry-notify-'))
  const notifier = createNotifier({ dataDir, ...opts.notifier })
  await notifier.open()
  const bus = createEventBus()
  notifier.attach(bus)
  const tickets = opts.routes?.tickets ?? createTicketStore()
  const app = new Hono<AppEnv>()
  app.onError((err, c) => errorResponse(c, err))
  app.route('/api/notify/v1', notifyRoutes({ ...opts.routes, notifier, tickets, jwt: JWT }))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/api/notify/v1`,
    dataDir,
    bus,
    notifier,
    tickets,
    async stop(stopOpts = {}) {
      ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await notifier.close()
      if (!stopOpts.keep) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export interface Received {
  id: number
  type: string
  payload: any
}

export interface StreamClient {
  events: Received[]
  es: EventSource
  /** Resolves once connected; rejects with the HTTP status when refused. */
  opened: Promise<void>
  close(): void
}

const TYPES = ['ability-task.status', 'workflow-job.status', 'wallet.points', 'ability-log.created', 'reset']

/** A real EventSource; the bearer token (and a first Last-Event-ID) go in headers. */
export function openStream(
  url: string,
  opts: { token?: string; lastEventId?: number; query?: string } = {},
): StreamClient {
  const events: Received[] = []
  const target = url + '/stream' + (opts.query ? `?${opts.query}` : '')
  const es = new EventSource(target, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...(opts.lastEventId === undefined ? {} : { 'Last-Event-ID': String(opts.lastEventId) }),
          ...init.headers,
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      }),
  })
  for (const type of TYPES) {
    es.addEventListener(type, (e) => {
      const data = JSON.parse(e.data)
      events.push({ id: Number(e.lastEventId), type: data.type, payload: data.payload })
    })
  }
  const opened = new Promise<void>((resolve, reject) => {
    es.addEventListener('open', () => resolve())
    es.addEventListener('error', (e) =>
      reject(Object.assign(new Error(`stream refused: ${e.message}`), { code: e.code })),
    )
  })
  opened.catch(() => {})
  return { events, es, opened, close: () => es.close() }
}

/** Waits until `client` holds at least `n` events. */
export const receivedAtLeast = (client: StreamClient, n: number, timeoutMs = WAIT_MS) =>
  eventually(() => client.events.length >= n, timeoutMs, 10)

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
