/**
 * The notifier: numbers client events, keeps a replay window in memory and
 * on disk, and fans events out to live subscribers (the SSE streams).
 */
import { GantryError } from '../errors.js'
import type { EventBus } from '../events/bus.js'
import type { NotifyEvent } from '../model/notify-event.js'
import { createEventLog } from '../store/data-dir/event-log.js'
import { shrinkStored } from './event-payloads.js'
import { createEventWindow } from './event-window.js'
import { createFanOut } from './fan-out.js'

export interface NotifierOptions {
  /** The replay log lives in `${dataDir}/events/`. */
  dataDir: string
  /** Replay window by count; default 10 000. */
  maxEvents?: number
  /** Replay window by the bytes of its events' frames; default 8 MB. */
  maxBytes?: number
  /** Replay window by age; default 1 h. */
  maxAgeMs?: number
  /** At most one progress event per task per this interval; default 500 ms. */
  progressIntervalMs?: number
  /** Size of one replay-log segment file, the unit retention drops; default 4 MB. */
  maxSegmentBytes?: number
  log?(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void
}

export interface Notifier {
  /** Loads the persisted tail (within the window); ids continue from the highest stored id. */
  open(): Promise<void>
  close(): Promise<void>
  /** Connects the bus: which bus events become client events, and for whom. */
  attach(bus: EventBus): () => void
  /** Numbers, keeps, persists (group-committed, not awaited) and fans out one event. */
  publish(type: string, userId: string, payload: unknown): NotifyEvent
  subscribe(listener: (e: NotifyEvent) => void): () => void
  /**
   * Brings `since` and `lastId` up to date; a stream awaits it before it subscribes.
   * (A cluster node reads the shared log only while a stream is open.)
   */
  catchUp(): Promise<void>
  /** Events after `lastId`, oldest first; `reset: true` when events after `lastId` were lost. */
  since(lastId: number): { events: NotifyEvent[]; reset: boolean }
  lastId(): number
  /** How many listeners are subscribed (one per open stream). */
  subscribers(): number
}

/** How long events stay replayable unless a notifier is told otherwise (and the cluster's event table keeps them). */
export const REPLAY_MAX_AGE_MS = 3_600_000
/** How many bytes of frames the replay window holds unless told otherwise. */
export const REPLAY_MAX_BYTES = 8 * 1024 * 1024

// retention is checked on a timer and every so many events, so a burst cannot outgrow it
const RETAIN_EVERY = 1000
const RETAIN_INTERVAL_MS = 60_000

export function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new GantryError('VALIDATION_FAILED', `notifier.${name} must be a positive number`)
  return value
}

/**
 * @example
 * const notifier = createNotifier({ dataDir: '/var/lib/gantry' })
 * await notifier.open()
 * const detach = notifier.attach(bus)
 */
export function createNotifier(opts: NotifierOptions): Notifier {
  const maxEvents = Math.floor(positive('maxEvents', opts.maxEvents ?? 10_000))
  const maxBytes = positive('maxBytes', opts.maxBytes ?? REPLAY_MAX_BYTES)
  const maxAgeMs = positive('maxAgeMs', opts.maxAgeMs ?? REPLAY_MAX_AGE_MS)
  const progressIntervalMs = positive('progressIntervalMs', opts.progressIntervalMs ?? 500)
  const log = opts.log ?? (() => {})

  const window = createEventWindow({ maxEvents, maxBytes, maxAgeMs })
  const store = createEventLog(
    opts.dataDir,
    positive('maxSegmentBytes', opts.maxSegmentBytes ?? 4 * 1024 * 1024),
  )
  const fanOut = createFanOut(log)
  let last = 0
  let state: 'new' | 'open' | 'closed' = 'new'
  let sinceRetain = 0
  let retainTimer: NodeJS.Timeout | undefined
  let warnedClosed = false

  function retain() {
    window.trim()
    store
      .dropBefore(window.oldestId() ?? last + 1)
      .catch((err) => log('warn', 'notify: could not drop an old event segment', { err: String(err) }))
  }

  function publish(type: string, userId: string, payload: unknown): NotifyEvent {
    // before open the highest stored id is unknown, and a reused id would break replay
    if (state === 'new') throw new GantryError('INTERNAL', 'notifier.publish called before open()')
    // no copy: every publisher hands over an object made for the event (a task view, a wallet
    // snapshot), which nothing changes afterwards; copying each one halved task throughput
    const e: NotifyEvent = { id: ++last, type, userId, payload: payload ?? null, at: Date.now() }
    window.push(e)
    if (state === 'open') {
      store
        .append(e)
        .catch((err) => log('error', 'notify: could not persist an event', { id: e.id, err: String(err) }))
    } else if (!warnedClosed) {
      warnedClosed = true
      log('warn', 'notify: event published after close is not persisted', { id: e.id, type })
    }
    if (++sinceRetain >= RETAIN_EVERY) {
      sinceRetain = 0
      retain()
    }
    fanOut.deliver(e)
    return e
  }

  return {
    async open() {
      if (state !== 'new') return
      await store.open((e) => {
        if (e.id <= last) return
        last = e.id
        window.push(shrinkStored(e))
      })
      window.trim()
      state = 'open'
      retainTimer = setInterval(retain, Math.min(RETAIN_INTERVAL_MS, maxAgeMs))
      retainTimer.unref()
      log('info', 'notify: replay log open', { lastId: last, held: window.size(), bytes: window.bytes() })
    },
    async close() {
      if (state === 'closed') return
      const wasOpen = state === 'open'
      state = 'closed'
      clearInterval(retainTimer)
      fanOut.detachAll()
      if (wasOpen) await store.close()
    },
    attach: (bus) => fanOut.attach(bus, publish, progressIntervalMs),
    publish,
    subscribe: fanOut.subscribe,
    // every event is published here, so this node is always up to date
    catchUp: () => Promise.resolve(),
    since(lastId) {
      window.trim()
      // an id beyond ours comes from a log that is gone: what the client holds is stale
      if (lastId > last) return { events: [], reset: true }
      const oldest = window.oldestId() ?? last + 1
      return { events: window.after(lastId), reset: lastId < oldest - 1 }
    },
    lastId: () => last,
    subscribers: fanOut.size,
  }
}
