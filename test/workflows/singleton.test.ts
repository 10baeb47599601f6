/**
 * A singleton key is one user's: another user's start with the same key gets a
 * job of their own, never the first user's job, its params or its outputs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachStore } from '../each-store.js'
import { eventually, startGantry, type TestGantry } from '../helpers.js'

const defs = `
kind: Executor
id: m
provider: mock
maxConcurrency: 8
---
kind: Ability
id: slow
name: Slow echo
executor: m
config: { delayMs: 1500 }
input: { type: object, properties: { text: { type: string } } }
---
kind: Workflow
id: single
name: One per character
singleton: "\${{ job.projectId }}-\${{ params.characterId }}"
input: { type: object, properties: { characterId: { type: string }, secret: { type: string } } }
steps:
  - { id: draw, ability: slow, with: { text: "\${{ params.secret }}" } }
`

describeEachStore('a singleton key', (env) => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': defs }, env })
  })
  afterAll(async () => {
    await g?.stop()
  })

  const start = (token: string, secret: string) =>
    g.api('/api/workflows/single/jobs', {
      body: { projectId: 'shared', params: { characterId: 'c1', secret } },
      token,
    })

  it("is scoped by user: another user's start gets a job of their own, and sees nothing of the first", async () => {
    const alice = g.token('alice')
    const bob = g.token('bob')
    const first = await start(alice, 'alice-private')
    expect(first.status).toBe(202)
    const again = await start(alice, 'alice-private')
    expect(again.body.jobId).toBe(first.body.jobId)

    const theirs = await start(bob, 'bob-text')
    expect(theirs.status).toBe(202)
    expect(theirs.body.jobId).not.toBe(first.body.jobId)
    expect(theirs.body.job).toMatchObject({ userId: 'bob', params: { secret: 'bob-text' } })
    expect(JSON.stringify(theirs.body)).not.toContain('alice-private')
    // concurrent starts by both users: each gets their own, one per user
    const both = await Promise.all([start(alice, 'x'), start(bob, 'y'), start(alice, 'x'), start(bob, 'y')])
    expect(both.map((r) => r.body.jobId)).toEqual([
      first.body.jobId,
      theirs.body.jobId,
      first.body.jobId,
      theirs.body.jobId,
    ])

    // bob's start was not swallowed: his job runs his own params to the end
    const done = await eventually(async () => {
      const body = (await g.api(`/api/workflow-jobs/${theirs.body.jobId}`, { token: bob })).body
      return body.status === 'completed' ? body : undefined
    }, 20_000)
    expect(JSON.parse(done.steps[0].output.texts[0])).toEqual({ text: 'bob-text' })
    expect((await g.api(`/api/workflow-jobs/${first.body.jobId}`, { token: bob })).status).toBe(404)
    expect(
      (await g.api('/api/workflow-jobs?projectId=shared', { token: bob })).body.items.map(
        (j: { id: string }) => j.id,
      ),
    ).toEqual([theirs.body.jobId])
  })
})
