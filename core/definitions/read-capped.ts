/**
 * Reading a definition file with a size cap. Parsing YAML is synchronous, so a
 * 25 MB file would hold the HTTP thread for seconds; a file over the cap is
 * refused before any of it is parsed (or, when it says so up front, read).
 */
import { open } from 'node:fs/promises'

/** 1 MiB: hundreds of times the size of a real definitions file. */
export const DEFAULT_MAX_DEFINITION_BYTES = 1024 * 1024

export type CappedRead = { text: string } | { tooLarge: number }

/** The file's text, or its size when over `maxBytes`; throws when it cannot be opened. */
export async function readCapped(file: string, maxBytes: number): Promise<CappedRead> {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    if (size > maxBytes) return { tooLarge: size }
    // read one byte past the cap: a file that grew since the stat is caught too
    const buffer = Buffer.alloc(maxBytes + 1)
    let length = 0
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
    }
    if (length > maxBytes) return { tooLarge: Math.max(length, size) }
    return { text: buffer.toString('utf8', 0, length) }
  } finally {
    await handle.close()
  }
}

export function tooLargeMessage(size: number, maxBytes: number): string {
  return `file is ${size} bytes, more than the ${maxBytes} a definitions file may have (GANTRY_MAX_DEFINITION_BYTES); not loaded`
}
