/**
 * `/api/notify/v1`: `POST /ticket` and `GET /stream`, the Server-Sent Events
 * a user receives (README, Events). Self-contained: it does its own auth.
 */
import { Hono } from 'hono'
import { type SSEStreamingApi, streamSSE } from 'hono/streaming'
import type { JwtOptions } from '../../auth/jwt.js'
import { GantryError } from '../../errors.js'
import type { Caller } from '../../model/call.js'
import type { NotifyEvent } from '../../model/notify-event.js'
import { formatFrame, frameBytes, frameOf } from '../../notify/frame.js'
import type { Notifier } from '../../notify/notifier.js'
import { createSseConnection } from '../../notify/sse-connection.js'
import type { AppEnv } from '../env.js'
import { bearerCaller, streamCaller } from '../stream-auth.js'
import type { TicketStore } from '../tickets.js'

export interface NotifyRoutesDeps {
  notifier: Notifier
  tickets: TicketStore
  jwt: JwtOptions
  /** A `: ping` comment this often; default 15 s. */
  heartbeatMs?: number
  /** The reconnect delay told to clients; default 3 s. */
  retryMs?: number
  /** Live events queued per client before it is cut off; default 1000. */
  maxQueued?: number
  /** Bytes of live events queued per client before it is cut off; default 1 MB. */
  maxQueuedBytes?: number
  /** One write stalled this long cuts the client off; default 30 s. */
  writeTimeoutMs?: number
  log?(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void
  /** Aborted when the server shuts down: every stream ends, so closing does not wait on them. */
  shutdown?: AbortSignal
}

interface StreamRequest {
  caller: Caller
  /** undefined: live events only. */
  lastEventId?: number
  types?: Set<string>
}

/**
 * @example
 * app.route('/api/notify/v1', notifyRoutes({ notifier, tickets: createTicketStore(), jwt }))
 */
export function notifyRoutes(deps: NotifyRoutesDeps): Hono<AppEnv> {
  const {
    notifier,
    heartbeatMs = 15_000,
    retryMs = 3000,
    maxQueued = 1000,
    maxQueuedBytes = 1024 * 1024,
    writeTimeoutMs = 30_000,
  } = deps
  const log = deps.log ?? (() => {})

  function streamEvents(stream: SSEStreamingApi, req: StreamRequest, destroySocket?: () => void) {
    const { caller, types } = req
    const visible = (e: NotifyEvent) =>
      (caller.role === 'admin' || e.userId === caller.id) && (!types || types.has(e.type))
    let unsubscribe = () => {}
    const connection = createSseConnection(stream, {
      retryMs,
      heartbeatMs,
      maxQueued,
      maxQueuedBytes,
      writeTimeoutMs,
      destroySocket,
      onClose(reason) {
        unsubscribe()
        deps.shutdown?.removeEventListener('abort', onShutdown)
        log('info', 'notify: stream closed', { userId: caller.id, reason })
      },
    })

    const onShutdown = () => connection.close('server shutting down')
    deps.shutdown?.addEventListener('abort', onShutdown, { once: true })

    // ids on the wire strictly increase: anything at or below this was sent or skipped
    let upTo = 0
    const forward = (e: NotifyEvent) => {
      if (e.id <= upTo) return
      upTo = e.id
      if (visible(e)) connection.send(frameOf(e), frameBytes(e))
    }
    // live events first, held back until the replay is queued, so none can fall in between
    let held: NotifyEvent[] | undefined = []
    unsubscribe = notifier.subscribe((e) => (held ? held.push(e) : forward(e)))

    if (req.lastEventId === undefined) {
      upTo = notifier.lastId()
    } else {
      const { events, reset } = notifier.since(req.lastEventId)
      if (reset) {
        upTo = notifier.lastId()
        const reason = 'events after Last-Event-ID are no longer held; refetch current state'
        connection.replay([formatFrame(upTo, 'reset', { type: 'reset', payload: { reason } })])
      } else {
        connection.replay(events.filter(visible).map(frameOf))
        upTo = Math.max(upTo, events.at(-1)?.id ?? req.lastEventId)
      }
    }
    for (const e of held) forward(e)
    held = undefined
    return connection.run()
  }

  return new Hono<AppEnv>()
    .post('/ticket', (c) => {
      const caller = bearerCaller(c.req.header('authorization'), deps.jwt)
      if (!caller) throw new GantryError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <JWT>)')
      return c.json(deps.tickets.issue(caller))
    })
    .get('/stream', async (c) => {
      const req: StreamRequest = {
        caller: streamCaller(c.req, deps.jwt, deps.tickets),
        lastEventId: parseLastEventId(c.req.header('last-event-id') ?? c.req.query('lastEventId')),
        types: parseTypes(c.req.query('types')),
      }
      // on Node the raw response is at hand, and a client that stopped reading needs it destroyed
      const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing
      c.header('X-Accel-Buffering', 'no')
      // a node that has not been reading the shared log reads it now, so the replay and ids are current
      await notifier.catchUp()
      return streamSSE(c, (stream) => streamEvents(stream, req, outgoing && (() => outgoing.destroy())))
    })
}

/** A garbage id means the client holds state we cannot place: -1 asks for a reset. */
function parseLastEventId(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const id = Number(raw)
  return Number.isSafeInteger(id) && id >= 0 ? id : -1
}

function parseTypes(raw: string | undefined): Set<string> | undefined {
  const types = raw
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean)
  return types?.length ? new Set(types) : undefined
}
