/**
 * Several nodes on one PostgreSQL database, each with a data dir of its own,
 * behind a load balancer: a media link or a large input stored by one node must
 * be found by any other. Runs when GANTRY_TEST_PG names a database.
 */
import { randomUUID } from 'node:crypto'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { dropSchema, newSchema, PG_URL } from '../pg-schema.js'

const square = (background: string, size: number, compressionLevel = 6) =>
  sharp({ create: { width: size, height: size, channels: 3, background } })
    .png({ compressionLevel })
    .toBuffer()

/** An ability whose result is `png`, as a data: URL the node keeps in its media store. */
const painter = (png: Buffer) => ({
  'a.yaml': `kind: Executor
id: painter
provider: mock
---
kind: Ability
id: paint
executor: painter
config: { output: { images: [{ url: "data:image/png;base64,${png.toString('base64')}" }] } }
`,
})

describe.skipIf(!PG_URL)('media shared by the nodes of a cluster (GANTRY_TEST_PG)', () => {
  let env: Record<string, string>
  const started: TestGantry[] = []
  const node = async (files: Record<string, string>) => {
    const g = await startGantry({ files, env })
    started.push(g)
    return g
  }
  beforeEach(() => {
    env = { GANTRY_STORE: PG_URL ?? '', GANTRY_PG_SCHEMA: newSchema('media'), GANTRY_SHUTDOWN_GRACE: '50ms' }
  })
  afterEach(async () => {
    for (const g of started.splice(0)) await g.stop()
    await dropSchema(env.GANTRY_PG_SCHEMA)
  })

  it("serves a task's result image through a node that did not run it", async () => {
    const png = await square('#2a9', 8)
    const files = painter(png)
    const a = await node(files)
    const b = await node(files)
    const submitted = await a.api('/api/ability-tasks', { body: { abilityId: 'paint' } })
    expect(submitted.status).toBe(202)
    const task = await waitForTask(a, submitted.body.id)
    expect(task.status).toBe('succeeded')
    const link: string = task.resultPayload.images[0].url
    expect(link).toMatch(/^\/media\/[0-9a-f]{64}\.png\?exp=\d+&sig=/)
    // either node may have claimed the task: the link must work on both
    for (const g of [a, b]) {
      const served = await fetch(g.url + link)
      expect(served.status).toBe(200)
      expect(served.headers.get('content-type')).toBe('image/png')
      expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true)
    }
  })

  it('runs a task accepted by a node that stopped, with its large inline image intact', async () => {
    const files = {
      'a.yaml':
        'kind: Executor\nid: viewer\nprovider: mock\n---\nkind: Ability\nid: look\nexecutor: viewer\n',
    }
    const picture = `data:image/png;base64,${(await square('#36c', 64, 0)).toString('base64')}`
    const a = await node(files)
    const submitted = await a.api('/api/ability-tasks', {
      body: { abilityId: 'look', inputs: { picture, delayMs: 1500 } },
    })
    expect(submitted.status).toBe(202)
    await waitForTask(a, submitted.body.id, ['running'])
    // a stops mid-call and puts the task back; b, with a data dir of its own, runs it
    await a.stop()
    started.splice(started.indexOf(a), 1)
    const b = await node(files)
    const done = await waitForTask(b, submitted.body.id)
    expect(done.status).toBe('succeeded')
    expect(JSON.parse(done.resultPayload.texts[0]).picture).toBe(picture)
  })

  it("resolves only references Gantry wrote: bob's copy of alice's is refused, one forged into the store fails its task", async () => {
    const files = {
      'a.yaml':
        'kind: Executor\nid: viewer\nprovider: mock\n---\nkind: Ability\nid: look\nexecutor: viewer\n',
    }
    const picture = `data:image/png;base64,${Buffer.alloc(8192, 'alice-private').toString('base64')}`
    const a = await node(files)
    const b = await node(files)
    const alice = a.token('alice')
    const submitted = await a.api('/api/ability-tasks', {
      token: alice,
      body: { abilityId: 'look', inputs: { picture } },
    })
    const done = await waitForTask(a, submitted.body.id, undefined, 30_000, alice)
    expect(done.status).toBe('succeeded')
    const ref: string = done.inputs.picture
    expect(ref).toMatch(/^gantry-media:data:[0-9a-f]{64}\.png:/)
    const bob = b.token('bob')
    const copied = await b.api('/api/ability-tasks', {
      token: bob,
      body: { abilityId: 'look', inputs: { picture: ref } },
    })
    expect(copied.status).toBe(400)
    expect(copied.body.error.code).toBe('VALIDATION_FAILED')
    // written straight into the shared store, as a tampered record would be: whichever node claims it refuses it
    const forged = {
      id: randomUUID(),
      seq: 0,
      abilityId: 'look',
      executorId: 'viewer',
      userId: 'bob',
      status: 'queued' as const,
      priority: 0,
      progress: 0,
      attempts: 0,
      payload: { inputs: { picture: ref }, executorId: 'viewer' },
      createdAt: Date.now(),
    }
    await b.gantry.store.tasks.insert(forged)
    const ended = await waitForTask(a, forged.id, undefined, 30_000)
    expect(ended).toMatchObject({ status: 'failed', errorCode: 'VALIDATION_FAILED', resultPayload: null })
    expect(ended.errorMessage).toContain('gantry-media: reference Gantry did not write for it')
  }, 90_000)

  it('still serves, after a node moves onto the database, the media its data dir kept from before', async () => {
    const png = await square('#c63', 8)
    const files = painter(png)
    // on the embedded store first: the media go to the data dir
    const alone = await startGantry({ files, env: { GANTRY_SHUTDOWN_GRACE: '50ms' } })
    const res = await alone.api('/api/abilities/paint/invoke', { body: {} })
    expect(res.status).toBe(200)
    const link: string = res.body.images[0].url
    const root = alone.root
    await alone.stop({ keep: true })
    const moved = await startGantry({ root, env })
    started.push(moved)
    const served = await fetch(moved.url + link)
    expect(served.status).toBe(200)
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true)
    // a node that never had it does not
    const other = await node(files)
    expect((await fetch(other.url + link)).status).toBe(404)
  })
})
