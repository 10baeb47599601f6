import { writeSync } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, readFile, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { createGroupCommit } from './group-commit.js'

/** Where one record sits on disk. */
export interface SegmentRef {
  segment: number
  offset: number
  length: number
}

export interface SegmentLogOptions {
  /** Start a new segment file past this size, so old ones can be dropped whole. */
  maxSegmentBytes?: number
  /** How often written data is fsynced (a kill -9 loses nothing; a power loss at most this much). */
  syncIntervalMs?: number
}

const segmentName = (n: number) => `segment-${String(n).padStart(6, '0')}.jsonl`
const SEGMENT_FILE = /^segment-(\d{6})\.jsonl$/

/**
 * An append-only log of JSON records in rotated segment files (JSON lines).
 * Appends are group-committed: a burst shares one write. Records are read
 * back by reference, so only an index needs to stay in memory.
 */
export class SegmentLog<T> {
  private readonly dir: string
  private readonly maxSegmentBytes: number
  private readonly syncIntervalMs: number
  private current = 0
  private size = 0
  private handle?: FileHandle
  // promises, so that two reads of one segment at once open it once (a second handle would leak)
  private readers = new Map<number, Promise<FileHandle>>()
  private pending: { line: string; settle(ref: SegmentRef): void; fail(err: unknown): void }[] = []
  private dirty = false
  private syncTimer?: NodeJS.Timeout
  private readonly commit = createGroupCommit(() => this.writePending())

  constructor(dir: string, opts: SegmentLogOptions = {}) {
    this.dir = dir
    this.maxSegmentBytes = opts.maxSegmentBytes ?? 64 * 1024 * 1024
    this.syncIntervalMs = opts.syncIntervalMs ?? 1000
  }

  /**
   * Opens the log and replays every stored record, oldest first. A whole line that
   * cannot be read (or that `onRecord` throws on) is skipped and told to `onUnreadable`.
   */
  async open(
    onRecord: (record: T, ref: SegmentRef) => void,
    onUnreadable?: (ref: SegmentRef, err: unknown) => void,
  ): Promise<void> {
    // private: records hold callback headers and users' inputs
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const segments = (await readdir(this.dir))
      .map((name) => SEGMENT_FILE.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
    for (const segment of segments) {
      const path = join(this.dir, segmentName(segment))
      const data = await readFile(path)
      let start = 0
      let goodEnd = 0
      while (start < data.length) {
        const end = data.indexOf(10, start)
        if (end === -1) break // a torn last line: the write never finished
        const ref = { segment, offset: start, length: end - start }
        try {
          onRecord(JSON.parse(data.toString('utf8', start, end)), ref)
        } catch (err) {
          // an unreadable line is skipped, never fatal, and never silently
          onUnreadable?.(ref, err)
        }
        start = end + 1
        goodEnd = start
      }
      if (goodEnd < data.length) await truncate(path, goodEnd)
      this.current = segment
      this.size = goodEnd
    }
    if (this.current === 0) this.current = 1
    this.handle = await open(join(this.dir, segmentName(this.current)), 'a', 0o600)
    this.syncTimer = setInterval(() => void this.sync(), this.syncIntervalMs)
    this.syncTimer.unref()
  }

  /** Resolves once the record is written. */
  append(record: T): Promise<SegmentRef> {
    return new Promise((settle, fail) => {
      this.pending.push({ line: JSON.stringify(record) + '\n', settle, fail })
      void this.commit.request()
    })
  }

  async read(ref: SegmentRef): Promise<T> {
    let opening = this.readers.get(ref.segment)
    if (!opening) {
      opening = open(join(this.dir, segmentName(ref.segment)), 'r')
      this.readers.set(ref.segment, opening)
      opening.catch(() => this.readers.delete(ref.segment))
    }
    const reader = await opening
    const buf = Buffer.allocUnsafe(ref.length)
    await reader.read(buf, 0, ref.length, ref.offset)
    return JSON.parse(buf.toString('utf8'))
  }

  /** Segment numbers, oldest first, the one being written last. */
  segments(): number[] {
    return Array.from({ length: this.current }, (_, i) => i + 1)
  }

  /** Removes a finished segment (retention); the one being written is kept. */
  async dropSegment(segment: number): Promise<void> {
    if (segment >= this.current) return
    const reader = this.readers.get(segment)
    this.readers.delete(segment)
    await (await reader)?.close()
    await unlink(join(this.dir, segmentName(segment))).catch(() => {})
  }

  async close(): Promise<void> {
    await this.commit.idle()
    clearInterval(this.syncTimer)
    await this.sync()
    await this.handle?.close()
    this.handle = undefined
    for (const reader of this.readers.values()) await (await reader).close()
    this.readers.clear()
  }

  private async sync() {
    if (!this.dirty || !this.handle) return
    this.dirty = false
    await this.handle.datasync().catch(() => {})
  }

  private async writePending() {
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    try {
      if (this.size >= this.maxSegmentBytes) await this.rotate()
      let text = ''
      for (const p of batch) text += p.line
      const data = Buffer.from(text)
      // a write to the page cache takes microseconds; doing it here, rather than on the
      // thread pool, keeps a round trip per batch off every commit (fsync stays asynchronous)
      writeSync(this.handle!.fd, data)
      let offset = this.size
      this.size += data.length
      this.dirty = true
      for (const p of batch) {
        const bytes = Buffer.byteLength(p.line)
        p.settle({ segment: this.current, offset, length: bytes - 1 })
        offset += bytes
      }
    } catch (err) {
      for (const p of batch) p.fail(err)
    }
  }

  private async rotate() {
    await this.handle!.datasync().catch(() => {})
    await this.handle!.close()
    this.current += 1
    this.size = 0
    this.handle = await open(join(this.dir, segmentName(this.current)), 'a', 0o600)
  }
}
