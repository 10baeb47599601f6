/** The replay window: the newest events, bounded by count and by age, kept in memory. */
import type { NotifyEvent } from './types.js'

export interface EventWindow {
  push(e: NotifyEvent): void
  /** Drops events past the count or older than `maxAgeMs`. */
  trim(now?: number): void
  /** Events with an id above `lastId`, oldest first. */
  after(lastId: number): NotifyEvent[]
  /** The id of the oldest event held, or undefined when empty. */
  oldestId(): number | undefined
  size(): number
  /** Drops every event (the next ones do not follow on from them). */
  clear(): void
}

/**
 * @example
 * const window = createEventWindow({ maxEvents: 10_000, maxAgeMs: 3_600_000 })
 * window.push(event)
 * window.after(41) // events 42, 43, ...
 */
export function createEventWindow(opts: { maxEvents: number; maxAgeMs: number }): EventWindow {
  // an array read from `head`: dropping the oldest is O(1), and it is compacted now and then
  let events: NotifyEvent[] = []
  let head = 0

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
      if (events.length - head > opts.maxEvents) head = events.length - opts.maxEvents
      compact()
    },
    trim(now = Date.now()) {
      const oldest = now - opts.maxAgeMs
      while (head < events.length && events[head].at < oldest) head++
      compact()
    },
    after: (lastId) => events.slice(firstAfter(lastId)),
    oldestId: () => (head < events.length ? events[head].id : undefined),
    size: () => events.length - head,
    clear() {
      events = []
      head = 0
    },
  }
}
