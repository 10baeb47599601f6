import { type FileHandle, mkdir, open, readdir, readFile, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { GantryError } from '../../errors.js'
import { createGroupCommit } from './group-commit.js'
import { segmentIo } from './segment-io.js'

/** Where one record sits on disk. */
export interface SegmentRef {
  segment: number
  offset: number
  length: number
}

/**
 * When an append resolves: `interval`, once written to the page cache (fsynced
 * within `syncIntervalMs`; a power loss can take that much); `fsync`, once
 * fsynced (a power loss takes nothing that was answered).
 */
export type Durability = 'interval' | 'fsync'

/** Whether a log can take writes; when it cannot, why and since when. */
export type Availability = { writable: true } | { writable: false; reason: string; since: number }

export interface SegmentLogOptions {
  /** Start a new segment file past this size, so old ones can be dropped whole. */
  maxSegmentBytes?: number
  /** How often written data is fsynced (a kill -9 loses nothing; a power loss at most this much). */
  syncIntervalMs?: number
  durability?: Durability
  /** While the log cannot write, how often it tries again with no append asking. */
  probeIntervalMs?: number
  /** Told once when the log stops being writable, and once when it is again. */
  onAvailability?(state: Availability, err?: unknown): void
}

const segmentName = (n: number) => `segment-${String(n).padStart(6, '0')}.jsonl`
const SEGMENT_FILE = /^segment-(\d{6})\.jsonl$/
// written and cut away again to learn whether the disk takes writes; no newline, so never a record
const PROBE = Buffer.alloc(4096, 0x20)

interface PendingAppend {
  line: string
  settle(ref: SegmentRef): void
  fail(err: unknown): void
  /** Takes back what the caller made visible before the write; called newest first. */
  undo?: () => void
}

/**
 * An append-only log of JSON records in rotated segment files (JSON lines).
 * Appends are group-committed: a burst shares one write. Records are read
 * back by reference, so only an index needs to stay in memory.
 *
 * A write that fails or falls short (a full disk) is cut back to the last
 * whole record, its batch fails with STORE_UNAVAILABLE, and so does every
 * append made after it (each was made on top of the failed ones). The log
 * stays unavailable until a write succeeds again: the next append, or a probe.
 */
export class SegmentLog<T> {
  private readonly dir: string
  private readonly maxSegmentBytes: number
  private readonly syncIntervalMs: number
  private readonly durability: Durability
  private readonly probeIntervalMs: number
  private readonly onAvailability?: SegmentLogOptions['onAvailability']
  private current = 0
  /** The end of the last whole record written: what a failed write is cut back to. */
  private size = 0
  private handle?: FileHandle
  // promises, so that two reads of one segment at once open it once (a second handle would leak)
  private readers = new Map<number, Promise<FileHandle>>()
  private pending: PendingAppend[] = []
  private dirty = false
  private syncTimer?: NodeJS.Timeout
  private failure?: { reason: string; since: number }
  private probeTimer?: NodeJS.Timeout
  private readonly commit = createGroupCommit(() => this.writePending())

  constructor(dir: string, opts: SegmentLogOptions = {}) {
    this.dir = dir
    this.maxSegmentBytes = opts.maxSegmentBytes ?? 64 * 1024 * 1024
    this.syncIntervalMs = opts.syncIntervalMs ?? 1000
    this.durability = opts.durability ?? 'interval'
    this.probeIntervalMs = opts.probeIntervalMs ?? 1000
    this.onAvailability = opts.onAvailability
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

  /**
   * Resolves once the record is written (and fsynced, with `durability: 'fsync'`).
   * `undo` takes back what the caller staged in memory for it; it runs, newest
   * first, before the promise rejects, when the record cannot be written.
   */
  append(record: T, undo?: () => void): Promise<SegmentRef> {
    return new Promise((settle, fail) => {
      let line: string
      try {
        line = JSON.stringify(record) + '\n'
      } catch (err) {
        // nothing was queued: only this caller's change is taken back
        runUndo(undo)
        fail(err)
        return
      }
      this.pending.push({ line, settle, fail, undo })
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
    const buf = Buffer.alloc(ref.length)
    let got = 0
    while (got < ref.length) {
      const { bytesRead } = await reader.read(buf, got, ref.length - got, ref.offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    if (got < ref.length) {
      throw new GantryError(
        'STORE_UNAVAILABLE',
        `a stored record is cut short (segment ${ref.segment}, offset ${ref.offset}: ${got} of ${ref.length} bytes)`,
      )
    }
    return JSON.parse(buf.toString('utf8'))
  }

  /** Whether the log takes writes now. */
  availability(): Availability {
    return this.failure ? { writable: false, ...this.failure } : { writable: true }
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
    // after the last fsync, which may have found the disk failing: nothing is left to probe
    clearInterval(this.probeTimer)
    this.probeTimer = undefined
    await this.handle?.close()
    this.handle = undefined
    for (const reader of this.readers.values()) await (await reader).close()
    this.readers.clear()
  }

  /** The periodic fsync of `interval` durability: a failure is reported, since answered data may be lost. */
  private async sync() {
    if (!this.dirty || !this.handle) return
    this.dirty = false
    try {
      await segmentIo.datasync(this.handle)
    } catch (err) {
      this.unavailable(err)
    }
  }

  private async writePending() {
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) {
      if (this.failure) await this.probe()
      return
    }
    let start = this.size
    try {
      if (this.failure) this.cutBack()
      if (this.size >= this.maxSegmentBytes) await this.rotate()
      start = this.size
      let text = ''
      for (const p of batch) text += p.line
      const data = Buffer.from(text)
      // a write to the page cache takes microseconds; doing it here, rather than on the
      // thread pool, keeps a round trip per batch off every commit
      this.writeAll(data)
      this.size = start + data.length
      // after a failure, writable means fsync works too (a failed fsync may have lost pages)
      if (this.durability === 'fsync' || this.failure) await segmentIo.datasync(this.handle!)
      else this.dirty = true
    } catch (err) {
      this.size = start
      this.unavailable(err)
      try {
        this.cutBack()
      } catch {
        // cut back before the next write, which fails until it can be
      }
      // appends queued meanwhile were staged on top of this batch: they go with it, newest first
      const failed = [...batch, ...this.pending.splice(0)]
      const error = storeUnavailable(err)
      for (let i = failed.length - 1; i >= 0; i--) runUndo(failed[i].undo)
      for (const p of failed) p.fail(error)
      return
    }
    this.available()
    let offset = start
    for (const p of batch) {
      const bytes = Buffer.byteLength(p.line)
      p.settle({ segment: this.current, offset, length: bytes - 1 })
      offset += bytes
    }
  }

  /** Writes all of `data` or throws: a short write (ENOSPC part-way) is retried, and throws once nothing goes. */
  private writeAll(data: Buffer) {
    let written = 0
    while (written < data.length) {
      const n = segmentIo.write(this.handle!.fd, data, written, data.length - written)
      if (n <= 0) throw Object.assign(new Error('the disk took no more bytes'), { code: 'ENOSPC' })
      written += n
    }
  }

  /** Cuts the file back to the last whole record, so no part of a failed write stays before the next one. */
  private cutBack() {
    segmentIo.truncate(this.handle!.fd, this.size)
  }

  /** While unavailable: writes a few bytes past the end and cuts them away; writable again if both work. */
  private async probe() {
    try {
      this.cutBack()
      this.writeAll(PROBE)
      this.cutBack()
      await segmentIo.datasync(this.handle!)
      this.available()
    } catch (err) {
      this.failure = { reason: reasonOf(err), since: this.failure?.since ?? Date.now() }
    }
  }

  private unavailable(err: unknown) {
    if (this.failure) return
    this.failure = { reason: reasonOf(err), since: Date.now() }
    this.probeTimer = setInterval(() => void this.commit.request(), this.probeIntervalMs)
    this.probeTimer.unref()
    this.onAvailability?.(this.availability(), err)
  }

  private available() {
    if (!this.failure) return
    this.failure = undefined
    clearInterval(this.probeTimer)
    this.probeTimer = undefined
    this.onAvailability?.(this.availability())
  }

  /** A new segment; on any failure the current one stays as it was. */
  private async rotate() {
    await segmentIo.datasync(this.handle!)
    const next = await open(join(this.dir, segmentName(this.current + 1)), 'a', 0o600)
    await this.handle!.close().catch(() => {})
    this.handle = next
    this.current += 1
    this.size = 0
  }
}

function runUndo(undo: (() => void) | undefined) {
  try {
    undo?.()
  } catch {
    // an undo restores plain in-memory values; one that throws must not keep the others from running
  }
}

const reasonOf = (err: unknown) => {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)
}

/** What a caller whose write failed hears: 503, try again later. */
export const storeUnavailable = (err: unknown) =>
  new GantryError('STORE_UNAVAILABLE', `the store cannot write to disk (${reasonOf(err)}); try again later`, {
    cause: err,
  })
