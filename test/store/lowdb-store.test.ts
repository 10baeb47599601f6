import { spawn } from 'node:child_process'
import { appendFile, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { InvocationLog } from '../../core/model/invocation-log.js'
import { createLowdbStore } from '../../core/store/lowdb/index.js'
import { makeTempDir } from '../helpers.js'

const log = (n: number, abilityId = 'a'): InvocationLog => ({
  logId: `log-${n}`,
  abilityId,
  executorId: 'e',
  userId: n % 2 ? 'alice' : 'bob',
  attempt: 1,
  status: 'succeeded',
  durationMs: n,
  cost: { points: 0 },
  request: { n },
  raw: null,
  createdAt: new Date(1_700_000_000_000 + n).toISOString(),
})

describe('the embedded store', () => {
  const dirs: string[] = []
  const tempDir = async () => {
    const dir = await makeTempDir()
    dirs.push(dir)
    return dir
  }
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  it('keeps logs across a restart and pages them newest first, filtered by ability and user', async () => {
    const dir = await tempDir()
    const store = createLowdbStore(dir)
    await store.open()
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.logs.append(log(i + 1, i % 3 ? 'a' : 'b'))))
    await store.close()

    const reopened = createLowdbStore(dir)
    await reopened.open()
    const page1 = await reopened.logs.list({ abilityId: 'a', limit: 5 })
    // ability 'a' holds every log but 1, 4, 7, ...
    expect(page1.items.map((l) => l.logId)).toEqual(['log-30', 'log-29', 'log-27', 'log-26', 'log-24'])
    const page2 = await reopened.logs.list({ abilityId: 'a', limit: 5, cursor: page1.nextCursor })
    expect(page2.items[0].logId).toBe('log-23')
    const alice = await reopened.logs.list({ userId: 'alice', limit: 100 })
    expect(alice.items).toHaveLength(15)
    expect(alice.nextCursor).toBeUndefined()
    expect((await reopened.logs.get('log-7'))?.request).toEqual({ n: 7 })
    await reopened.close()
  })

  it('a burst of appends shares writes (group commit) and every append is on disk when it resolves', async () => {
    const dir = await tempDir()
    const store = createLowdbStore(dir)
    await store.open()
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.logs.append(log(i))))
    const text = await readFile(join(dir, 'logs', 'segment-000001.jsonl'), 'utf8')
    expect(text.trim().split('\n')).toHaveLength(500)
    await store.close()
  })

  it('survives a torn last line (a write cut short by a crash) and keeps appending cleanly', async () => {
    const dir = await tempDir()
    const store = createLowdbStore(dir)
    await store.open()
    await store.logs.append(log(1))
    await store.close()
    await appendFile(join(dir, 'logs', 'segment-000001.jsonl'), '{"logId":"torn","abil')

    const reopened = createLowdbStore(dir)
    await reopened.open()
    await reopened.logs.append(log(2))
    const page = await reopened.logs.list({ limit: 10 })
    expect(page.items.map((l) => l.logId)).toEqual(['log-2', 'log-1'])
    await reopened.close()
    const again = createLowdbStore(dir)
    await again.open()
    expect((await again.logs.list({ limit: 10 })).items).toHaveLength(2)
    await again.close()
  })

  it('refuses a second owner of the data dir, and takes over a lock left by a dead process', async () => {
    const dir = await tempDir()
    const first = createLowdbStore(dir)
    await first.open()
    await expect(createLowdbStore(dir, { lock: { waitMs: 200 } }).open()).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      message: expect.stringContaining(`in use by process ${process.pid}`),
    })
    await first.close()

    // a lock whose owner died
    const dead = spawn(process.execPath, ['-e', '0'])
    await new Promise((r) => dead.on('exit', r))
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(dir, 'gantry.lock'), String(dead.pid))
    const next = createLowdbStore(dir)
    await next.open()
    expect(await readdir(dir)).toContain('gantry.lock')
    await next.close()
    expect(await readdir(dir)).not.toContain('gantry.lock')
  })
})
