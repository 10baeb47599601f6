import type { MediaStore } from '../model/media-store.js'

/**
 * Writes go to `current`, reads try `older` too: a node moved onto the shared
 * database still serves the media its data dir holds from before (links it
 * gave out, inputs of tasks it had queued) until retention removes them.
 */
export function withOlderMedia(current: MediaStore, older: MediaStore): MediaStore {
  return {
    put: (bytes, mimeType) => current.put(bytes, mimeType),
    async get(key) {
      return (await current.get(key)) ?? older.get(key)
    },
    async removeBefore(before) {
      const [fromCurrent, fromOlder] = await Promise.all([
        current.removeBefore(before),
        older.removeBefore(before),
      ])
      return fromCurrent + fromOlder
    },
  }
}
