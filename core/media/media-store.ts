import { createHash, randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface StoredMedia {
  key: string
  mimeType: string
  size: number
}

/** Where result media are kept. The filesystem one is the default; an S3-compatible one can follow. */
export interface MediaStore {
  put(bytes: Buffer, mimeType: string): Promise<StoredMedia>
  get(key: string): Promise<{ bytes: Buffer; mimeType: string } | undefined>
  /** Retention: removes media stored before `before`; returns how many. */
  removeBefore(before: number): Promise<number>
}

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

/**
 * Media under the data dir, named by the SHA-256 of their bytes: the same
 * image stored twice is one file, and a key says nothing about its owner.
 */
export function createFileMediaStore(dir: string): MediaStore {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), key)
  return {
    async put(bytes, mimeType) {
      const ext = EXTENSIONS[mimeType] ?? 'bin'
      const key = `${createHash('sha256').update(bytes).digest('hex')}.${ext}`
      const path = pathOf(key)
      await mkdir(join(dir, key.slice(0, 2)), { recursive: true })
      const exists = await stat(path).then(
        () => true,
        () => false,
      )
      if (!exists) {
        // written aside and renamed, so a reader never sees half a file
        // a name of its own: two calls storing the same bytes at once must not share a temp file
        const tmp = `${path}.${randomUUID()}.tmp`
        await writeFile(tmp, bytes)
        await rename(tmp, path)
      }
      return { key, mimeType, size: bytes.length }
    },
    async get(key) {
      if (!KEY.test(key)) return undefined
      const bytes = await readFile(pathOf(key)).catch(() => undefined)
      if (!bytes) return undefined
      return { bytes, mimeType: MIME_OF[key.split('.')[1]] ?? 'application/octet-stream' }
    },
    async removeBefore(before) {
      let removed = 0
      for (const shard of await readdir(dir).catch(() => [] as string[])) {
        for (const name of await readdir(join(dir, shard)).catch(() => [] as string[])) {
          const path = join(dir, shard, name)
          const info = await stat(path).catch(() => undefined)
          if (info && info.mtimeMs < before) {
            await rm(path, { force: true })
            removed++
          }
        }
      }
      return removed
    },
  }
}
