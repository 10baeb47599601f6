import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MediaStore } from '../../model/media-store.js'
import { isMediaKey, mediaKey, mimeTypeOfKey } from '../media-keys.js'

/**
 * Media under the data dir, named by the SHA-256 of their bytes: the same
 * image stored twice is one file, and a key says nothing about its owner.
 */
export function createFileMediaStore(dir: string): MediaStore {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), key)
  return {
    async put(bytes, mimeType) {
      const key = mediaKey(bytes, mimeType)
      const path = pathOf(key)
      // retention goes by mtime, so bytes stored again must count as stored now (or a new
      // result's link could be swept); utimes fails when there is no file yet
      const now = new Date()
      const refreshed = await utimes(path, now, now).then(
        () => true,
        () => false,
      )
      if (!refreshed) {
        // private, like everything under the data dir (a user's result is theirs)
        await mkdir(join(dir, key.slice(0, 2)), { recursive: true, mode: 0o700 })
        // written aside and renamed, so a reader never sees half a file
        // a name of its own: two calls storing the same bytes at once must not share a temp file
        const tmp = `${path}.${randomUUID()}.tmp`
        await writeFile(tmp, bytes, { mode: 0o600 })
        await rename(tmp, path)
      }
      return { key, mimeType, size: bytes.length }
    },
    async get(key) {
      if (!isMediaKey(key)) return undefined
      const bytes = await readFile(pathOf(key)).catch(() => undefined)
      if (!bytes) return undefined
      return { bytes, mimeType: mimeTypeOfKey(key) }
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
