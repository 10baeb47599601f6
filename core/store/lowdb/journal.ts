import { join } from 'node:path'
import { type Availability, SegmentLog, type SegmentLogOptions, type SegmentRef } from './segment-log.js'

/** One change to one record of a collection. */
export interface JournalOp {
  /** The collection: `task`, `idem`, `cb`. */
  c: string
  /** The record's key. */
  k: string
  /** The record's full new value. */
  v: unknown
}

/** One line of the journal: changes that land together or not at all. */
interface JournalTx {
  ops: JournalOp[]
}

type Replay = (op: JournalOp, ref: SegmentRef) => void

/**
 * The embedded store's journal: every change is appended as a transaction
 * line (all its records or none, since a torn line is dropped on open), and
 * group-committed. Collections keep what they need in memory and read the
 * rest back by reference. Old segments are dropped once nothing current
 * lives in them; a few live records are copied forward to let them go.
 */
export class Journal {
  private readonly log: SegmentLog<JournalTx>
  /** Current records per segment, to know when a segment can go. */
  private readonly liveBySegment = new Map<number, number>()

  constructor(dataDir: string, opts: Pick<SegmentLogOptions, 'durability' | 'onAvailability'> = {}) {
    this.log = new SegmentLog(join(dataDir, 'journal'), { maxSegmentBytes: 32 * 1024 * 1024, ...opts })
  }

  private stopped?: Error

  async open(replay: Replay, onUnreadable?: (ref: SegmentRef, err: unknown) => void): Promise<void> {
    await this.log.open((tx, ref) => {
      for (const op of tx.ops) replay(op, ref)
    }, onUnreadable)
  }

  /**
   * Appends the ops as one transaction; resolves with where it landed, once written.
   * When it cannot be written, `undo` runs first (see `SegmentLog.append`).
   */
  commit(ops: JournalOp[], undo?: () => void): Promise<SegmentRef> {
    if (this.stopped) {
      undo?.()
      return Promise.reject(this.stopped)
    }
    return this.log.append({ ops }, undo)
  }

  availability(): Availability {
    return this.log.availability()
  }

  /** Refuses every later commit with `err` (this process no longer owns the data dir). */
  stop(err: Error): void {
    this.stopped = err
  }

  /** Reads the value of `c`/`k` from the transaction at `ref`. */
  async read<T>(ref: SegmentRef, c: string, k: string): Promise<T | undefined> {
    const tx = await this.log.read(ref)
    for (let i = tx.ops.length - 1; i >= 0; i--) {
      const op = tx.ops[i]
      if (op.c === c && op.k === k) return op.v as T
    }
    return undefined
  }

  /** Collections report which segment holds each current record, so segments can be dropped. */
  track(from: SegmentRef | undefined, to: SegmentRef | undefined): void {
    if (from) this.liveBySegment.set(from.segment, (this.liveBySegment.get(from.segment) ?? 1) - 1)
    if (to) this.liveBySegment.set(to.segment, (this.liveBySegment.get(to.segment) ?? 0) + 1)
  }

  /** Finished segments, oldest first, with how many current records each still holds. */
  finishedSegments(): { segment: number; live: number }[] {
    const all = this.log.segments()
    return all.slice(0, -1).map((segment) => ({ segment, live: this.liveBySegment.get(segment) ?? 0 }))
  }

  async drop(segment: number): Promise<void> {
    this.liveBySegment.delete(segment)
    await this.log.dropSegment(segment)
  }

  close(): Promise<void> {
    return this.log.close()
  }
}
