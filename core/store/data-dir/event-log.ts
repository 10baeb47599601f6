/**
 * The replay log on disk: events appended to small segment files, so that
 * retention drops a whole old file instead of rewriting one big one.
 */
import { join } from 'node:path'
import type { NotifyEvent } from '../../model/notify-event.js'
import { SegmentLog } from '../lowdb/segment-log.js'

export interface EventLog {
  /** Reads every stored event, oldest first. */
  open(onEvent: (e: NotifyEvent) => void): Promise<void>
  /** Group-committed; resolves once written. */
  append(e: NotifyEvent): Promise<void>
  /** Removes finished segments whose events all have ids below `oldestKeptId`. */
  dropBefore(oldestKeptId: number): Promise<void>
  close(): Promise<void>
}

export function createEventLog(dataDir: string, maxSegmentBytes = 4 * 1024 * 1024): EventLog {
  const log = new SegmentLog<NotifyEvent>(join(dataDir, 'events'), { maxSegmentBytes })
  // the highest id written to each segment: a segment can go once that id is outside the window
  const lastIdOf = new Map<number, number>()
  const note = (segment: number, id: number) => {
    if (id > (lastIdOf.get(segment) ?? 0)) lastIdOf.set(segment, id)
  }

  return {
    open: (onEvent) =>
      log.open((record, ref) => {
        if (!isEvent(record)) return
        note(ref.segment, record.id)
        onEvent(record)
      }),
    async append(e) {
      const ref = await log.append(e)
      note(ref.segment, e.id)
    },
    async dropBefore(oldestKeptId) {
      const writing = Math.max(...log.segments())
      for (const [segment, lastId] of lastIdOf) {
        if (segment >= writing || lastId >= oldestKeptId) continue
        lastIdOf.delete(segment)
        await log.dropSegment(segment)
      }
    },
    close: () => log.close(),
  }
}

/** A line another version wrote, or a damaged one, is skipped rather than trusted. */
function isEvent(record: unknown): record is NotifyEvent {
  const e = record as NotifyEvent | null
  return (
    typeof e === 'object' &&
    e !== null &&
    Number.isSafeInteger(e.id) &&
    typeof e.type === 'string' &&
    typeof e.userId === 'string' &&
    typeof e.at === 'number'
  )
}
