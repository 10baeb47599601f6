/**
 * The notifier of a node in a cluster: events are numbered by the shared log,
 * and reach this node's subscribers only by being read back from it, so every
 * node sends the same ids in the same order and `Last-Event-ID` works on any.
 * A node with no subscriber does not read the log (every node reading every
 * event cost two busy nodes 7 to 14% of their throughput); a stream's
 * `catchUp` reads what it needs.
 */

import { GantryError } from '../errors.js'
import type { SharedEventLog } from '../model/cluster.js'
import type { NotifyEvent } from '../model/notify-event.js'
import { shrinkStored } from './event-payloads.js'
import { createEventWindow } from './event-window.js'
import { createFanOut } from './fan-out.js'
import {
  type Notifier,
  type NotifierOptions,
  positive,
  REPLAY_MAX_AGE_MS,
  REPLAY_MAX_BYTES,
} from './notifier.js'

export interface ClusterNotifierOptions
  extends Pick<NotifierOptions, 'maxEvents' | 'maxBytes' | 'maxAgeMs' | 'progressIntervalMs' | 'log'> {
  events: SharedEventLog
  /** Reads the log and retries a failed append this often, in case a signal was missed; default 1 s. */
  pollMs?: number
}

export interface ClusterNotifier extends Notifier {
  /** A node appended events up to `lastId` (an `events` signal): read them. */
  onAppended(lastId: number): void
}

const APPEND_BATCH = 1000
const READ_BATCH = 1000
// while the database is unreachable events pile up; past this the oldest go (a chunk at a time, one log line each)
const MAX_PENDING = 100_000

/**
 * `publish` returns the event with `id: 0`: its id is known once stored, and
 * subscribers receive it then, numbered.
 *
 * @example
 * const notifier = createClusterNotifier({ events: cluster.events })
 * await notifier.open()
 * // on an `events` signal: notifier.onAppended(signal.lastId)
 */
export function createClusterNotifier(opts: ClusterNotifierOptions): ClusterNotifier {
  const maxEvents = Math.floor(positive('maxEvents', opts.maxEvents ?? 10_000))
  const maxBytes = positive('maxBytes', opts.maxBytes ?? REPLAY_MAX_BYTES)
  const maxAgeMs = positive('maxAgeMs', opts.maxAgeMs ?? REPLAY_MAX_AGE_MS)
  const progressIntervalMs = positive('progressIntervalMs', opts.progressIntervalMs ?? 500)
  const pollMs = positive('pollMs', opts.pollMs ?? 1000)
  const log = opts.log ?? (() => {})
  const { events } = opts

  const window = createEventWindow({ maxEvents, maxBytes, maxAgeMs })
  const fanOut = createFanOut(log)
  /** Published here, not yet stored, in publish order. */
  let pending: NotifyEvent[] = []
  let flushing: Promise<void> | undefined
  let retryAt = 0
  let reading: Promise<void> | undefined
  let readAgain = false
  /** Events were appended while nobody was subscribed, and are not read yet. */
  let behind = false
  /** The newest id read from the log. */
  let last = 0
  let state: 'new' | 'open' | 'closed' = 'new'
  let timer: NodeJS.Timeout | undefined
  let warnedClosed = false

  /** Starts a flush unless one is in flight (it takes what comes meanwhile) or an append just failed. */
  function kick() {
    if (flushing || pending.length === 0 || Date.now() < retryAt) return
    flushing = flush().finally(() => {
      flushing = undefined
      kick()
    })
  }

  async function flush() {
    // let the rest of this turn's events join the batch
    await new Promise<void>((resolve) => setImmediate(resolve))
    while (pending.length) {
      const batch = pending.slice(0, APPEND_BATCH)
      try {
        await events.append(batch)
      } catch (err) {
        retryAt = Date.now() + pollMs
        log('error', 'notify: could not store events, will retry', {
          count: pending.length,
          err: String(err),
        })
        return
      }
      // publish only appends, so the batch is still at the front (unless dropped as overflow meanwhile)
      pending.splice(0, pending.indexOf(batch[batch.length - 1]) + 1)
      void read()
    }
  }

  /** Reads the log up to its end; unless `force`d, only while someone is subscribed. */
  function read(force = false): Promise<void> {
    if (state !== 'open') return Promise.resolve()
    if (!force && fanOut.size() === 0) {
      behind = true
      return reading ?? Promise.resolve()
    }
    if (reading) {
      readAgain = true
      return reading
    }
    reading = readUntilCaughtUp().finally(() => {
      reading = undefined
    })
    return reading
  }

  async function readUntilCaughtUp() {
    do {
      readAgain = false
      try {
        if (behind) await skipAhead()
        let batch: NotifyEvent[]
        do {
          batch = await events.after(last, READ_BATCH)
          for (const e of batch) deliver(e)
        } while (batch.length === READ_BATCH)
      } catch (err) {
        log('warn', 'notify: could not read the shared event log, will retry', {
          after: last,
          err: String(err),
        })
        return
      }
    } while (readAgain && state === 'open')
  }

  /** After a quiet spell, what lies beyond the replay window would only be read to be dropped. */
  async function skipAhead() {
    const newest = await events.lastId()
    behind = false
    if (newest - last > maxEvents) {
      last = newest - maxEvents
      window.clear()
    }
  }

  function deliver(stored: NotifyEvent) {
    if (stored.id <= last) return
    last = stored.id
    // rows an earlier version wrote hold whole tasks
    const e = shrinkStored(stored)
    window.push(e)
    fanOut.deliver(e)
  }

  function publish(type: string, userId: string, payload: unknown): NotifyEvent {
    if (state === 'new') throw new GantryError('INTERNAL', 'notifier.publish called before open()')
    const e: NotifyEvent = { id: 0, type, userId, payload: payload ?? null, at: Date.now() }
    if (state === 'closed') {
      if (!warnedClosed) log('warn', 'notify: event published after close is dropped', { type })
      warnedClosed = true
      return e
    }
    pending.push(e)
    if (pending.length > MAX_PENDING) {
      const dropped = pending.length - Math.floor(MAX_PENDING * 0.9)
      pending = pending.slice(dropped)
      log('error', 'notify: too many events could not be stored; dropped the oldest', { dropped })
    }
    kick()
    return e
  }

  return {
    async open() {
      if (state !== 'new') return
      // the tail, read when a stream first asks: at most maxEvents back (fewer if ids have gaps)
      last = Math.max(0, (await events.lastId()) - maxEvents)
      state = 'open'
      behind = true
      timer = setInterval(() => {
        kick()
        void read()
        window.trim()
      }, pollMs)
      timer.unref()
      log('info', 'notify: shared event log open', { after: last })
    },
    async close() {
      if (state === 'closed') return
      state = 'closed'
      clearInterval(timer)
      fanOut.detachAll()
      retryAt = 0
      kick()
      while (flushing) await flushing
      await reading
      if (pending.length) log('error', 'notify: events not stored at close', { count: pending.length })
    },
    attach: (bus) => fanOut.attach(bus, publish, progressIntervalMs),
    publish,
    subscribe(listener) {
      const unsubscribe = fanOut.subscribe(listener)
      // events that came while nobody listened, up to now: forwarding skips what the stream already has
      if (behind) void read()
      return unsubscribe
    },
    catchUp: () => read(true),
    since(lastId) {
      window.trim()
      // an id beyond ours was stored by another node and this one has not read it yet
      if (lastId >= last) return { events: [], reset: false }
      const oldest = window.oldestId() ?? last + 1
      return { events: window.after(lastId), reset: lastId < oldest - 1 }
    },
    lastId: () => last,
    subscribers: fanOut.size,
    onAppended(lastId) {
      if (lastId > last) void read()
    },
  }
}
