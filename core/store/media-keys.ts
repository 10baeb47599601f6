/** Media keys, shared by the file and the PostgreSQL media stores. */
import { createHash } from 'node:crypto'

const KEY = /^[0-9a-f]{64}\.[a-z0-9]{1,8}$/

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'application/json': 'json',
}
const MIME_OF = Object.fromEntries(Object.entries(EXTENSIONS).map(([mime, ext]) => [ext, mime]))

/** The key bytes are stored under: their SHA-256, then the extension of their type (`bin` when it has none here). */
export function mediaKey(bytes: Buffer, mimeType: string): string {
  return `${createHash('sha256').update(bytes).digest('hex')}.${EXTENSIONS[mimeType] ?? 'bin'}`
}

/** Whether `key` has the form `mediaKey` gives: anything else names no media, and no path. */
export const isMediaKey = (key: string): boolean => KEY.test(key)

/**
 * The type media are served as: the one their key's extension stands for, never
 * the type a caller stated, so bytes stored as (say) text/html are served as
 * application/octet-stream.
 */
export const mimeTypeOfKey = (key: string): string => MIME_OF[key.split('.')[1]] ?? 'application/octet-stream'
