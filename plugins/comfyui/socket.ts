/**
 * ComfyUI's `/ws?clientId=...` socket, one per worker thread and ComfyUI,
 * opened on the first submit to it. ComfyUI sends a prompt's execution
 * messages only to the socket of the `client_id` it was queued with, and it
 * keeps one socket per client id (a second connection replaces the first),
 * so each thread has its own id and sends it with its prompts.
 *
 * The socket only adds detail: when it cannot connect or drops, it tries
 * again with backoff while polling carries on without it. One that follows no
 * prompt for a minute is closed.
 */
import { createHash, randomUUID } from 'node:crypto'
import { WebSocket } from 'undici'
import { ProgressTracker, type SocketMessage } from './progress.js'
import type { Connection } from './settings.js'
import type { ApiWorkflow } from './workflow.js'

const IDLE_CLOSE_MS = 60_000
const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 30_000

// one per thread: each module instance lives in one worker
const THREAD_ID = randomUUID()

/** The `client_id` this thread queues prompts on `baseUrl` with; the same for every submit. */
export function clientIdFor(conn: Connection): string {
  const server = createHash('sha256').update(conn.baseUrl).digest('hex').slice(0, 8)
  return `gantry-${THREAD_ID}-${server}`
}

export const socketUrlOf = (conn: Connection) =>
  `${conn.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientIdFor(conn))}`

export class ComfySocket {
  readonly tracker: ProgressTracker
  /** Why the last connection failed or ended, while it is down. */
  lastError?: string
  private ws?: WebSocket
  private retryTimer?: NodeJS.Timeout
  private idleTimer?: NodeJS.Timeout
  private retries = 0
  private closed = false
  private waiters: (() => void)[] = []

  constructor(
    private readonly conn: Connection,
    private readonly onClosed: () => void,
  ) {
    this.tracker = new ProgressTracker(() => this.armIdleClose())
    this.connect()
    this.armIdleClose()
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Follows a prompt's messages; called before it is queued, since ComfyUI may start it before answering. */
  track(promptId: string, workflow: ApiWorkflow): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    this.tracker.track(promptId, workflow)
  }

  forget(promptId: string): void {
    this.tracker.forget(promptId)
  }

  /** Resolves once the socket is open, has failed, or `ms` passed: a prompt queued before it opens misses its first messages. */
  ready(ms: number): Promise<void> {
    if (this.open || !this.ws || this.ws.readyState !== WebSocket.CONNECTING) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms).unref()
      const waiters = this.waiters
      function done() {
        clearTimeout(timer)
        resolve()
      }
      waiters.push(done)
    })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retryTimer)
    clearTimeout(this.idleTimer)
    this.tracker.dispose()
    this.ws?.close()
    this.wake()
    this.onClosed()
  }

  private connect(): void {
    let ws: WebSocket
    try {
      // undici sends these with the upgrade request, so a proxy's auth header reaches /ws too
      ws = new WebSocket(socketUrlOf(this.conn), { headers: this.conn.headers })
    } catch (err) {
      this.dropped((err as Error).message)
      return
    }
    this.ws = ws
    ws.addEventListener('open', () => {
      this.retries = 0
      this.lastError = undefined
      this.wake()
    })
    ws.addEventListener('message', (event) => {
      // binary frames are preview images
      if (typeof event.data !== 'string') return
      try {
        this.tracker.apply(JSON.parse(event.data) as SocketMessage)
      } catch {
        // a message we cannot read costs its detail only
      }
    })
    ws.addEventListener('close', (event) => {
      if (this.ws === ws) this.dropped(event.reason || `closed with code ${event.code}`)
    })
    // an 'error' is always followed by 'close'
  }

  private dropped(reason: string): void {
    this.ws = undefined
    this.lastError = reason
    this.wake()
    if (this.closed) return
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.retries++)
    // spread the retries, so threads do not reconnect in step
    this.retryTimer = setTimeout(() => this.connect(), delay * (0.5 + Math.random() / 2)).unref()
  }

  private armIdleClose(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      if (this.tracker.size === 0) this.close()
    }, IDLE_CLOSE_MS).unref()
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }
}

const sockets = new Map<string, ComfySocket>()

/** This thread's socket to `conn.baseUrl`, opened if there is none. */
export function socketFor(conn: Connection): ComfySocket {
  let socket = sockets.get(conn.baseUrl)
  if (!socket) {
    const created: ComfySocket = new ComfySocket(conn, () => {
      if (sockets.get(conn.baseUrl) === created) sockets.delete(conn.baseUrl)
    })
    socket = created
    sockets.set(conn.baseUrl, socket)
  }
  return socket
}
