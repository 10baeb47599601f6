import { join } from 'node:path'
import type { InvocationLog, LogQuery } from '../../model/invocation-log.js'
import type { LogRepository, Page } from '../../model/store.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import { type Availability, SegmentLog, type SegmentLogOptions, type SegmentRef } from './segment-log.js'

interface LogIndexEntry {
  seq: number
  logId: string
  abilityId: string
  userId: string
  ref: SegmentRef
}

/**
 * Invocation logs in append-only segment files. Only a small index stays in
 * memory (about 150 bytes a log); the logs themselves are read on demand.
 */
export class LowdbLogRepository implements LogRepository {
  private readonly file: SegmentLog<InvocationLog>
  private readonly all: LogIndexEntry[] = []
  private readonly byId = new Map<string, LogIndexEntry>()
  private readonly byAbility = new Map<string, LogIndexEntry[]>()
  private seq = 0
  private readonly newestBySegment = new Map<number, number>()

  constructor(dataDir: string, opts: Pick<SegmentLogOptions, 'onAvailability'> = {}) {
    this.file = new SegmentLog(join(dataDir, 'logs'), opts)
  }

  availability(): Availability {
    return this.file.availability()
  }

  private stopped?: Error

  open(onUnreadable?: (ref: SegmentRef, err: unknown) => void): Promise<void> {
    return this.file.open((log, ref) => this.index(log, ref), onUnreadable)
  }

  /** Refuses every later append with `err` (this process no longer owns the data dir). */
  stop(err: Error): void {
    this.stopped = err
  }

  close(): Promise<void> {
    return this.file.close()
  }

  async append(log: InvocationLog): Promise<void> {
    if (this.stopped) throw this.stopped
    const ref = await this.file.append(log)
    this.index(log, ref)
  }

  async get(logId: string): Promise<InvocationLog | undefined> {
    const entry = this.byId.get(logId)
    return entry && this.file.read(entry.ref)
  }

  async list(query: LogQuery): Promise<Page<InvocationLog>> {
    const source = query.abilityId ? (this.byAbility.get(query.abilityId) ?? []) : this.all
    const before = decodeCursor<number>(query.cursor) ?? Number.POSITIVE_INFINITY
    const picked: LogIndexEntry[] = []
    for (let i = source.length - 1; i >= 0 && picked.length <= query.limit; i--) {
      const entry = source[i]
      if (entry.seq >= before) continue
      if (query.userId && entry.userId !== query.userId) continue
      picked.push(entry)
    }
    const more = picked.length > query.limit
    const page = picked.slice(0, query.limit)
    const items = await Promise.all(page.map((entry) => this.file.read(entry.ref)))
    return more ? { items, nextCursor: encodeCursor(page[page.length - 1].seq) } : { items }
  }

  async removeBefore(before: number): Promise<number> {
    // logs are appended in time order: whole segments whose newest log is older go at once
    const cutoff = new Set<number>()
    for (const segment of this.file.segments().slice(0, -1)) {
      const newest = this.newestBySegment.get(segment)
      if (newest !== undefined && newest < before) cutoff.add(segment)
    }
    if (cutoff.size === 0) return 0
    const kept = this.all.filter((e) => !cutoff.has(e.ref.segment))
    const removed = this.all.length - kept.length
    this.all.length = 0
    this.all.push(...kept)
    this.byId.clear()
    this.byAbility.clear()
    for (const entry of kept) this.link(entry)
    for (const segment of cutoff) {
      this.newestBySegment.delete(segment)
      await this.file.dropSegment(segment)
    }
    return removed
  }

  private index(log: InvocationLog, ref: SegmentRef) {
    const entry = { seq: ++this.seq, logId: log.logId, abilityId: log.abilityId, userId: log.userId, ref }
    this.all.push(entry)
    const at = Date.parse(log.createdAt)
    if (at > (this.newestBySegment.get(ref.segment) ?? 0)) this.newestBySegment.set(ref.segment, at)
    this.link(entry)
  }

  private link(entry: LogIndexEntry) {
    this.byId.set(entry.logId, entry)
    let list = this.byAbility.get(entry.abilityId)
    if (!list) this.byAbility.set(entry.abilityId, (list = []))
    list.push(entry)
  }
}
