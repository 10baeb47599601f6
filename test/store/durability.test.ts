/**
 * GANTRY_DURABILITY: `interval` (the default) answers a change once written,
 * `fsync` once fsynced; a bad value stops the start, naming the variable.
 */
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../core/config.js'
import { createLowdbStore, type LowdbStore } from '../../core/store/lowdb/index.js'
import { segmentIo } from '../../core/store/lowdb/segment-io.js'
import { eventually, makeTempDir } from '../helpers.js'
import { aTask } from './records.js'

const task = aTask('t1', { payload: { inputs: {} }, createdAt: 1_700_000_000_000 })

describe('GANTRY_DURABILITY', () => {
  const dirs: string[] = []
  const stores: LowdbStore[] = []
  afterEach(async () => {
    vi.restoreAllMocks()
    for (const store of stores.splice(0)) await store.close()
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  async function openStore(durability: 'interval' | 'fsync') {
    const dir = await makeTempDir()
    dirs.push(dir)
    const store = createLowdbStore(dir, { durability })
    await store.open()
    stores.push(store)
    return store
  }
  /** The next fsync waits until released. */
  function holdNextFsync() {
    const realSync = segmentIo.datasync
    const gate: { release?: () => void } = {}
    vi.spyOn(segmentIo, 'datasync').mockImplementationOnce(async (handle) => {
      await new Promise<void>((resolve) => (gate.release = resolve))
      await realSync(handle)
    })
    return gate
  }

  it('is interval by default and accepts fsync; anything else stops the start naming the variable', () => {
    expect(loadConfig({}).durability).toBe('interval')
    expect(loadConfig({ GANTRY_DURABILITY: 'fsync' }).durability).toBe('fsync')
    expect(() => loadConfig({ GANTRY_DURABILITY: 'always' })).toThrow(
      "GANTRY_DURABILITY must be 'interval' or 'fsync', got 'always'",
    )
  })

  it('fsync: a task and its hold are answered only once fsynced', async () => {
    const store = await openStore('fsync')
    await store.ledger.grant('alice', 50, 'welcome', 'admin')
    const gate = holdNextFsync()
    let answered = false
    const inserting = store.tasks.insert(task, { holdPoints: 20 }).then(() => (answered = true))
    await eventually(() => gate.release)
    // written but not yet fsynced: not answered, and its hold is not one a sweep may release
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(answered).toBe(false)
    expect(await store.ledger.openHolds()).toEqual([])
    expect((await store.ledger.wallet('alice')).available).toBe(30)
    gate.release!()
    await inserting
    expect((await store.ledger.openHolds()).map((h) => h.holdKey)).toEqual(['task:t1'])
  })

  it('interval: answered once written, before any fsync', async () => {
    const store = await openStore('interval')
    const sync = vi.spyOn(segmentIo, 'datasync')
    await store.ledger.grant('alice', 50, 'welcome', 'admin')
    expect(sync).not.toHaveBeenCalled()
  })
})
