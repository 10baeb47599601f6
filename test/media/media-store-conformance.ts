/**
 * The MediaStore contract, stated once and run against each store
 * (`file-media-store.test.ts`, `../store/postgres-media-store.test.ts`), so the
 * files of a single node and the rows every node shares cannot drift apart.
 *
 * @example
 * mediaStoreConformance('the file media store', async () => {
 *   const dir = await makeTempDir()
 *   return { store: createFileMediaStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) }
 * })
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MediaStore } from '../../core/model/media-store.js'

/** A store fresh for one test, and how to remove it afterwards. */
export interface MediaStoreLocation {
  store: MediaStore
  cleanup(): Promise<void>
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** Long enough that a file's mtime (the kernel's coarse clock) falls on the right side of a cutoff. */
const APART_MS = 50

/** An instant between what was stored before it and what is stored after it. */
async function cutoff(): Promise<number> {
  await sleep(APART_MS)
  const at = Date.now()
  await sleep(APART_MS)
  return at
}

export function mediaStoreConformance(name: string, makeLocation: () => Promise<MediaStoreLocation>): void {
  describe(name, () => {
    let location: MediaStoreLocation
    let store: MediaStore
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
    const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex')

    beforeEach(async () => {
      location = await makeLocation()
      store = location.store
    })
    afterEach(() => location.cleanup())

    it('keeps bytes under their SHA-256 and extension, and gives them back with their type', async () => {
      const stored = await store.put(png, 'image/png')
      expect(stored).toEqual({ key: `${sha256(png)}.png`, mimeType: 'image/png', size: png.length })
      const got = await store.get(stored.key)
      expect(got?.mimeType).toBe('image/png')
      expect(got?.bytes.equals(png)).toBe(true)
    })

    it('keeps the same bytes once, under one key', async () => {
      const first = await store.put(png, 'image/png')
      const second = await store.put(Buffer.from(png), 'image/png')
      const other = await store.put(jpeg, 'image/jpeg')
      expect(second.key).toBe(first.key)
      expect(other.key).toBe(`${sha256(jpeg)}.jpg`)
      expect(await store.removeBefore(Date.now() + 60_000)).toBe(2)
    })

    it('serves a type it does not know by name as application/octet-stream', async () => {
      const page = Buffer.from('<html><script>alert(1)</script></html>')
      const stored = await store.put(page, 'text/html')
      expect(stored.key).toBe(`${sha256(page)}.bin`)
      expect((await store.get(stored.key))?.mimeType).toBe('application/octet-stream')
    })

    it('finds nothing for an unknown or malformed key', async () => {
      const stored = await store.put(png, 'image/png')
      expect(await store.get(`${sha256(jpeg)}.png`)).toBeUndefined()
      expect(await store.get(stored.key.replace('.png', '.jpg'))).toBeUndefined()
      for (const key of ['', 'abc.png', stored.key.toUpperCase(), `../${stored.key}`, `${stored.key}/x`])
        expect(await store.get(key)).toBeUndefined()
    })

    it('removes only media stored before the cutoff, and says how many', async () => {
      const old = await store.put(png, 'image/png')
      const at = await cutoff()
      const fresh = await store.put(jpeg, 'image/jpeg')
      expect(await store.removeBefore(at)).toBe(1)
      expect(await store.get(old.key)).toBeUndefined()
      expect((await store.get(fresh.key))?.bytes.equals(jpeg)).toBe(true)
      expect(await store.removeBefore(at)).toBe(0)
    })

    it('counts bytes stored again as stored now, so retention keeps what a new result links to', async () => {
      const first = await store.put(png, 'image/png')
      const at = await cutoff()
      await store.put(png, 'image/png')
      expect(await store.removeBefore(at)).toBe(0)
      expect((await store.get(first.key))?.bytes.equals(png)).toBe(true)
    })
  })
}
