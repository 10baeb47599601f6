/**
 * One client's SSE connection: a backlog being replayed, a bounded queue of
 * live frames, the loop that writes them, and the heartbeat. A client that
 * cannot keep up (its queue overflows by count or by bytes, or one write
 * stalls) is cut off rather than buffered without bound. Frames arrive
 * formatted (see frame.ts): one string per event, shared by every connection.
 */
import type { SSEStreamingApi } from 'hono/streaming'

export interface SseConnectionOptions {
  retryMs: number
  heartbeatMs: number
  /** Live events waiting to be written before the client is cut off. */
  maxQueued: number
  /** Bytes of live events waiting to be written before the client is cut off. */
  maxQueuedBytes: number
  /** A single write taking longer than this means the client stopped reading. */
  writeTimeoutMs: number
  /** Called once, with why, when the connection ends for any reason. */
  onClose(reason: string): void
  /** Frees the socket: a client that stopped reading would otherwise hold it open. */
  destroySocket?(): void
}

export interface SseConnection {
  /** Queues frames already held elsewhere (a replay); written first, a slice at a time. */
  replay(frames: string[]): void
  /** Queues one live frame; cuts the client off when its queue is full. */
  send(frame: string, bytes?: number): void
  /** Writes until the connection closes. */
  run(): Promise<void>
  close(reason: string): void
}

const PING = ': ping\n\n'
// a replay goes out in writes of at most this many frames and about this many characters,
// so a replay of thousands of events never becomes one string per connection
const REPLAY_SLICE = 200
const REPLAY_SLICE_CHARS = 64 * 1024

export function createSseConnection(stream: SSEStreamingApi, opts: SseConnectionOptions): SseConnection {
  let backlog: string[] = []
  let backlogAt = 0
  let queue: string[] = []
  let queuedBytes = 0
  let closed = false
  let wake: (() => void) | undefined
  let heartbeat: NodeJS.Timeout | undefined
  // the write under way, if any: close() ends its wait (racing every write against one
  // long-lived "closed" promise would pile a reaction onto it per write, for the stream's life)
  let cancelWrite: (() => void) | undefined
  const idle = () => queue.length === 0 && backlogAt >= backlog.length

  function close(reason: string) {
    if (closed) return
    closed = true
    clearInterval(heartbeat)
    cancelWrite?.()
    wake?.()
    if (!stream.aborted) stream.abort()
    opts.destroySocket?.()
    opts.onClose(reason)
  }

  async function write(chunk: string) {
    let timer: NodeJS.Timeout | undefined
    const stopped = new Promise<void>((resolve) => {
      cancelWrite = resolve
      timer = setTimeout(() => close('writes stalled'), opts.writeTimeoutMs)
    })
    try {
      await Promise.race([stream.write(chunk), stopped])
    } finally {
      clearTimeout(timer)
      cancelWrite = undefined
    }
  }

  function nextChunk(): string | undefined {
    if (backlogAt < backlog.length) {
      const start = backlogAt
      let chars = 0
      while (backlogAt < backlog.length && backlogAt - start < REPLAY_SLICE && chars < REPLAY_SLICE_CHARS)
        chars += backlog[backlogAt++].length
      const chunk = backlogAt - start === 1 ? backlog[start] : backlog.slice(start, backlogAt).join('')
      if (backlogAt >= backlog.length) {
        backlog = []
        backlogAt = 0
      }
      return chunk
    }
    if (queue.length === 0) return undefined
    // everything queued goes out in one write (bounded by maxQueuedBytes)
    const chunk = queue.length === 1 ? queue[0] : queue.join('')
    queue = []
    queuedBytes = 0
    return chunk
  }

  stream.onAbort(() => close('client disconnected'))

  return {
    replay(frames) {
      for (const frame of frames) backlog.push(frame)
      wake?.()
    },
    send(frame, bytes = Buffer.byteLength(frame)) {
      if (closed) return
      if (queue.length >= opts.maxQueued) {
        close(`client too slow: more than ${opts.maxQueued} events queued`)
        return
      }
      // a frame alone over the budget still goes when nothing waits before it
      if (queue.length > 0 && queuedBytes + bytes > opts.maxQueuedBytes) {
        close(`client too slow: more than ${opts.maxQueuedBytes} bytes queued`)
        return
      }
      queue.push(frame)
      queuedBytes += bytes
      wake?.()
    },
    async run() {
      // the first frame, so a client knows how long to wait before reconnecting
      await write(`retry: ${opts.retryMs}\n\n`)
      if (closed) return
      heartbeat = setInterval(function ping() {
        // only when nothing waits: frames waiting to go out say enough about liveness
        if (idle()) {
          queue.push(PING)
          wake?.()
        }
      }, opts.heartbeatMs)
      while (!closed) {
        const chunk = nextChunk()
        if (chunk === undefined) {
          // close() wakes it too
          await new Promise<void>((resolve) => (wake = resolve))
          wake = undefined
          continue
        }
        await write(chunk)
      }
    },
    close,
  }
}
