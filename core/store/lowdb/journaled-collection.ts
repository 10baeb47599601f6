import type { Journal, JournalOp } from './journal.js'
import type { SegmentRef } from './segment-log.js'

interface Entry<T> {
  ref: SegmentRef
  /** The value, when this collection keeps it in memory. */
  value?: T
}

/**
 * A keyed collection kept in the journal. Values that `keepInMemory` accepts
 * stay in memory; the others are read back from the journal when asked for.
 */
export class JournaledCollection<T> {
  readonly entries = new Map<string, Entry<T>>()

  constructor(
    readonly name: string,
    private readonly journal: Journal,
    private readonly keyOf: (value: T) => string,
    private readonly keepInMemory: (value: T) => boolean = () => true,
  ) {}

  /** Replays one journal op of this collection (at open). */
  replay(op: JournalOp, ref: SegmentRef): void {
    this.place(op.k, op.v as T, ref)
  }

  op(value: T): JournalOp {
    return { c: this.name, k: this.keyOf(value), v: value }
  }

  /** Records that these values were committed at `ref`. */
  applied(values: T[], ref: SegmentRef): void {
    for (const value of values) this.place(this.keyOf(value), value, ref)
  }

  /**
   * Makes a change visible at once, before it is written; `applied` follows when it is.
   * Checks and changes then happen in one turn of the event loop, with nothing in between.
   * Returns the undo for a write that fails: the value seen before (undos run newest first).
   */
  stage(value: T): () => void {
    const key = this.keyOf(value)
    const entry = this.entries.get(key)
    if (!entry) return () => {}
    const previous = entry.value
    entry.value = value
    return () => {
      // once a newer write of this key landed, the entry is a new one, and right as it is
      if (this.entries.get(key) === entry) entry.value = previous
    }
  }

  async get(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    return entry.value ?? this.journal.read<T>(entry.ref, this.name, key)
  }

  /** The in-memory value, if kept. */
  peek(key: string): T | undefined {
    return this.entries.get(key)?.value
  }

  delete(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    this.journal.track(entry.ref, undefined)
    this.entries.delete(key)
  }

  private place(key: string, value: T, ref: SegmentRef) {
    const previous = this.entries.get(key)
    this.journal.track(previous?.ref, ref)
    this.entries.set(key, { ref, value: this.keepInMemory(value) ? value : undefined })
  }
}
