/**
 * A task's large inline input is kept in the media store and the stored task
 * holds a `gantry-media:` reference. Media keys are in every media link, so a
 * reference is something anyone can write: only the ones Gantry wrote, for
 * that task, may ever be resolved into another user's bytes.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { AbilityTask } from '../../core/model/task.js'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'

const files = {
  'a.yaml': `kind: Executor
id: m
provider: mock
---
kind: Ability
id: look
executor: m
---
kind: Workflow
id: one-look
input: { type: object, properties: { picture: { type: string } } }
steps:
  - id: look
    ability: look
    with: { picture: "\${{ params.picture }}" }
`,
}
const env = { GANTRY_SHUTDOWN_GRACE: '50ms' }
/** How long a test waits for a task: generous, for a busy machine; a passing run does not wait it out. */
const PATIENCE = 30_000
/** Alice's private upload: big enough to be kept in the media store rather than the journal. */
const secretPicture = `data:image/png;base64,${Buffer.alloc(8192, 'alice-private').toString('base64')}`

/** A queued task as a tampered store would hold it: `picture` is whatever the forger wrote. */
const forgedTask = (picture: string): AbilityTask => ({
  id: randomUUID(),
  seq: 0,
  abilityId: 'look',
  executorId: 'm',
  userId: 'bob',
  status: 'queued',
  priority: 0,
  progress: 0,
  attempts: 0,
  payload: { inputs: { picture }, executorId: 'm' },
  createdAt: Date.now(),
})

describe('gantry-media: references', () => {
  let g: TestGantry
  afterEach(async () => {
    await g?.stop()
  })

  /** Alice's task with a large picture, done; its reference as alice sees it in her task. */
  async function aliceUploads(): Promise<{ taskId: string; ref: string; key: string }> {
    const alice = g.token('alice')
    const res = await g.api('/api/ability-tasks', {
      token: alice,
      body: { abilityId: 'look', inputs: { picture: secretPicture } },
    })
    expect(res.status).toBe(202)
    const done = await waitForTask(g, res.body.id, undefined, PATIENCE, alice)
    expect(done.status).toBe('succeeded')
    const ref: string = done.inputs.picture
    expect(ref).toMatch(/^gantry-media:data:[0-9a-f]{64}\.png/)
    return { taskId: res.body.id, ref, key: ref.split(':')[2] }
  }

  it("are refused (400) in what a user sends, on every route that takes inputs, so bob cannot read alice's upload", async () => {
    g = await startGantry({ files, env })
    const { ref, key } = await aliceUploads()
    const bob = g.token('bob')
    const unsigned = `gantry-media:data:${key}`
    const attempts: [string, unknown][] = [
      ['/api/ability-tasks', { abilityId: 'look', inputs: { picture: ref } }],
      ['/api/ability-tasks', { abilityId: 'look', inputs: { picture: unsigned } }],
      ['/api/ability-tasks', { abilityId: 'look', inputs: { nested: { list: ['x', unsigned] } } }],
      ['/api/ability-tasks', { abilityId: 'look', imageBase64: unsigned }],
      ['/api/ability-tasks', { abilityId: 'look', images: [unsigned] }],
      ['/api/ability-tasks', { abilityId: 'look', imageUrl: unsigned }],
      ['/api/abilities/look/invoke', { inputs: { picture: unsigned } }],
      ['/api/abilities/look/invoke', { images: [ref] }],
      ['/api/workflows/one-look/jobs', { params: { picture: unsigned } }],
    ]
    for (const [path, body] of attempts) {
      const res = await g.api(path, { token: bob, body })
      expect(res.status, `${path} ${JSON.stringify(body).slice(0, 120)}`).toBe(400)
      expect(res.body.error.code).toBe('VALIDATION_FAILED')
      expect(res.body.error.message).toContain('gantry-media:')
    }
    // nothing of bob's was accepted, nothing of alice's reached him
    expect((await g.api('/api/ability-tasks', { token: bob })).body.items).toEqual([])
    expect((await g.api('/api/workflow-jobs', { token: bob })).body.items).toEqual([])
  }, 90_000)

  it('forged into a stored task are not resolved: the task fails and says why, after a restart', async () => {
    g = await startGantry({ files, env })
    const { ref, key } = await aliceUploads()
    // alice's reference is signed for her task, not bob's; a bare one is signed for none
    const copied = forgedTask(ref)
    const bare = forgedTask(`gantry-media:data:${key}`)
    await g.gantry.store.tasks.insert(copied)
    await g.gantry.store.tasks.insert(bare)
    // the restart resumes them with nothing prepared in memory: the stored payload is all there is
    const root = g.root
    await g.stop({ keep: true })
    g = await startGantry({ root, env })
    for (const task of [copied, bare]) {
      const ended = await waitForTask(g, task.id, undefined, PATIENCE)
      expect(ended).toMatchObject({ status: 'failed', errorCode: 'VALIDATION_FAILED' })
      expect(ended.errorMessage).toContain('gantry-media: reference Gantry did not write for it')
      expect(ended.resultPayload).toBeNull()
    }
  }, 90_000)
})
