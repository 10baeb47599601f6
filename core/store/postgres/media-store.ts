import type { Pool } from 'pg'
import type { MediaStore } from '../../model/media-store.js'
import { isMediaKey, mediaKey, mimeTypeOfKey } from '../media-keys.js'

/**
 * Media as rows of the `media` table, keyed as the file store names its files
 * (SHA-256 of the bytes, then the extension): every node sharing the database
 * serves every node's media links.
 */
export function createPostgresMediaStore(pool: Pool): MediaStore {
  return {
    async put(bytes, mimeType) {
      const key = mediaKey(bytes, mimeType)
      const now = Date.now()
      // bytes stored again (a repeated result or input) must count as stored now, or retention could
      // remove what a new result links to; updating first keeps them from crossing the network again
      const refreshed = await pool.query(
        'UPDATE media SET stored_at = GREATEST(stored_at, $2) WHERE key = $1',
        [key, now],
      )
      if (!refreshed.rowCount) {
        // two nodes storing the same new bytes at once: the second refreshes the first's row
        await pool.query(
          `INSERT INTO media (key, mime_type, bytes, stored_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET stored_at = GREATEST(media.stored_at, EXCLUDED.stored_at)`,
          [key, mimeTypeOfKey(key), bytes, now],
        )
      }
      return { key, mimeType, size: bytes.length }
    },
    async get(key) {
      if (!isMediaKey(key)) return undefined
      const { rows } = await pool.query<{ bytes: Buffer; mime_type: string }>(
        'SELECT bytes, mime_type FROM media WHERE key = $1',
        [key],
      )
      return rows[0] ? { bytes: rows[0].bytes, mimeType: rows[0].mime_type } : undefined
    },
    async removeBefore(before) {
      const { rowCount } = await pool.query('DELETE FROM media WHERE stored_at < $1', [Math.ceil(before)])
      return rowCount ?? 0
    },
  }
}
