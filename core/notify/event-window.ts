/** The replay window: the newest events, bounded by count, by bytes and by age, kept in memory. */

import type { NotifyEvent } from '../model/notify-event.js'
import { frameBytes } from './frame.js'

export interface EventWindow {
  /** Keeps `e`, dropping the oldest past the count or the bytes (`e` too, alone over the bytes). */
  push(e: NotifyEvent): void
  /** Drops events older than `maxAgeMs`. */
  trim(now?: number): void
  /** Events with an id above `lastId`, oldest first. */
  after(lastId: number): NotifyEvent[]
  /** The id of the oldest event held, or undefined when empty. */
  oldestId(): number | undefined
  size(): number
  /** The bytes of the frames of the events held. */
  bytes(): number
  /** Drops every event (the next ones do not follow on from them). */
  clear(): void
}

/**
 * @example
 * const window = createEventWindow({ maxEvents: 10_000, maxBytes: 8 * 1024 * 1024, maxAgeMs: 3_600_000 })
 * window.push(event)
 * window.after(41) // events 42, 43, ...
 */
export function createEventWindow(opts: {
  maxEvents: number
  maxBytes: number
  maxAgeMs: number
}): EventWindow {
  // an array read from `head`: dropping the oldest is O(1), and it is compacted now and then
  let events: NotifyEvent[] = []
  let head = 0
  let bytes = 0

  function dropOldest() {
    bytes -= frameBytes(events[head])
    // released now rather than at the next compaction, which may be a thousand events away
    ;(events as (NotifyEvent | undefined)[])[head] = undefined
    head++
  }

  function compact() {
    if (head > 1024 && head * 2 > events.length) {
      events = events.slice(head)
      head = 0
    }
  }

  /** Index of the first event with an id above `id` (ids increase, so a binary search). */
  function firstAfter(id: number): number {
    let lo = head
    let hi = events.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (events[mid].id <= id) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  return {
    push(e) {
      events.push(e)
      bytes += frameBytes(e)
      while (head < events.length && (events.length - head > opts.maxEvents || bytes > opts.maxBytes))
        dropOldest()
      compact()
    },
    trim(now = Date.now()) {
      const oldest = now - opts.maxAgeMs
      while (head < events.length && events[head].at < oldest) dropOldest()
      compact()
    },
    after: (lastId) => events.slice(firstAfter(lastId)),
    oldestId: () => (head < events.length ? events[head].id : undefined),
    size: () => events.length - head,
    bytes: () => bytes,
    clear() {
      events = []
      head = 0
      bytes = 0
    },
  }
}
