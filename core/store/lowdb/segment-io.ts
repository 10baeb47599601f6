import { ftruncateSync, writeSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/**
 * The file operations a segment log makes while it writes, in one object, so
 * that a test can make the disk fail (a short write, ENOSPC, EIO) without a
 * full disk to hand.
 */
export const segmentIo = {
  /** Writes part of `data` at the end of the file; returns how many bytes it wrote. */
  write: (fd: number, data: Buffer, offset: number, length: number): number =>
    writeSync(fd, data, offset, length),
  truncate: (fd: number, length: number): void => ftruncateSync(fd, length),
  datasync: (handle: FileHandle): Promise<void> => handle.datasync(),
}
