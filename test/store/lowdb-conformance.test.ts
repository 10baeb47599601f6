/** The Store conformance suite on the embedded store: each test gets its own data dir. */
import { rm } from 'node:fs/promises'
import { createLowdbStore } from '../../core/store/lowdb/index.js'
import { makeTempDir } from '../helpers.js'
import { storeConformance } from './conformance.js'

storeConformance('the embedded store (lowdb)', async () => {
  const dir = await makeTempDir('gantry-store-')
  return {
    connect: () => createLowdbStore(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})
