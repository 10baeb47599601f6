import { rm } from 'node:fs/promises'
import { createFileMediaStore } from '../../core/store/data-dir/media-store.js'
import { makeTempDir } from '../helpers.js'
import { mediaStoreConformance } from './media-store-conformance.js'

mediaStoreConformance('the file media store', async () => {
  const dir = await makeTempDir()
  return { store: createFileMediaStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) }
})
