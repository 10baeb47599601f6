/**
 * A fan-out costs what it fans out to: each item's result is stored once, in its
 * task, so the journal grows with the number of items, not with its square;
 * and a list longer than the workflow's `maxItems` (or GANTRY_MAX_FANOUT) is refused.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeEachStore } from '../each-store.js'
import { eventually, startGantry, type TestGantry } from '../helpers.js'

const defs = `
kind: Executor
id: m
provider: mock
maxConcurrency: 4
---
kind: Ability
id: echo
name: Echo
executor: m
input: { type: object, properties: { text: { type: string } } }
---
kind: Ability
id: planner
name: Answers four texts
executor: m
config: { output: { texts: [a, b, c, d] } }
---
kind: Workflow
id: fan
name: One echo per item, then a summary of them all
input: { type: object, properties: { items: { type: array } } }
steps:
  - id: each
    ability: echo
    forEach: "\${{ params.items }}"
    with: { text: "item \${{ item }}" }
  - id: count
    ability: echo
    with: { text: "\${{ steps.each.output[1].texts[0] }}" }
output:
  all: "\${{ steps.each.output }}"
---
kind: Workflow
id: capped
name: At most three items
input: { type: object, properties: { items: { type: array } } }
steps:
  - id: each
    ability: echo
    maxItems: 3
    forEach: "\${{ params.items }}"
    with: { text: "\${{ item }}" }
---
kind: Workflow
id: computed
name: A list known only when the first step ends
steps:
  - id: plan
    ability: planner
  - id: each
    ability: echo
    maxItems: 3
    forEach: "\${{ steps.plan.output.texts }}"
    with: { text: "\${{ item }}" }
`

async function journalBytes(dataDir: string): Promise<number> {
  const dir = join(dataDir, 'journal')
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

describeEachStore('a fan-out', (storeEnv) => {
  let g: TestGantry
  const env: Record<string, string> = { ...storeEnv, GANTRY_MAX_FANOUT: '600' }
  const waitJob = (id: string) =>
    eventually(async () => {
      const res = await g.api(`/api/workflow-jobs/${id}`)
      return ['completed', 'failed', 'canceled'].includes(res.body.status) ? res.body : undefined
    }, 60_000)

  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': defs }, env })
  })
  afterAll(async () => {
    await g?.stop()
  })

  it('shows each item result once in the view, on its step and its task, and in the output', async () => {
    const items = ['a', 'b', 'c']
    const res = await g.api('/api/workflows/fan/jobs', { body: { params: { items } } })
    expect(res.status).toBe(202)
    const job = await waitJob(res.body.jobId)
    expect(job.status).toBe('completed')
    const texts = items.map((i) => JSON.stringify({ text: `item ${i}` }))
    const each = job.steps.find((s: { id: string }) => s.id === 'each')
    expect(each.output.map((r: { texts: string[] }) => r.texts[0])).toEqual(texts)
    expect(job.output.all).toEqual(each.output)
    const tasks = job.tasks.filter((t: { stepId: string }) => t.stepId === 'each')
    expect(tasks.map((t: { result: unknown }) => t.result)).toEqual(each.output)
    const count = job.steps.find((s: { id: string }) => s.id === 'count')
    expect(count.output.texts[0]).toBe(JSON.stringify({ text: texts[1] }))
  })

  it('refuses up front a list from params longer than the step’s maxItems, or the server’s GANTRY_MAX_FANOUT', async () => {
    const over = await g.api('/api/workflows/capped/jobs', {
      body: { params: { items: ['1', '2', '3', '4'] } },
    })
    expect(over.status).toBe(400)
    expect(over.body.error.code).toBe('VALIDATION_FAILED')
    expect(over.body.error.message).toMatch(/maxItems/)
    const ok = await g.api('/api/workflows/capped/jobs', { body: { params: { items: ['1', '2', '3'] } } })
    expect(ok.status).toBe(202)
    expect((await waitJob(ok.body.jobId)).status).toBe('completed')

    const items = Array.from({ length: 601 }, (_, i) => i)
    const server = await g.api('/api/workflows/fan/jobs', { body: { params: { items } } })
    expect(server.status).toBe(400)
    expect(server.body.error.message).toMatch(/GANTRY_MAX_FANOUT/)
    // nothing was stored for either refusal: only the job of three items
    const stored = (await g.api('/api/workflow-jobs?limit=100')).body.items
    expect(stored.map((j: { id: string }) => j.id)).not.toContain(over.body.jobId)
    expect(stored.filter((j: { params: { items: unknown[] } }) => (j.params.items ?? []).length > 3)).toEqual(
      [],
    )
  })

  it('fails the step with FANOUT_TOO_LARGE when a list computed at run time is too long', async () => {
    const res = await g.api('/api/workflows/computed/jobs', { body: { params: {} } })
    expect(res.status).toBe(202)
    const job = await waitJob(res.body.jobId)
    expect(job.status).toBe('failed')
    expect(job.error).toMatchObject({ code: 'FANOUT_TOO_LARGE', stepId: 'each' })
    expect(job.error.message).toMatch(/4 items.*maxItems 3/)
    expect(job.tasks.filter((t: { stepId: string }) => t.stepId === 'each')).toEqual([])
  })
})

describe('the journal of a fan-out', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': defs } })
  })
  afterAll(async () => {
    await g?.stop()
  })

  /** Journal bytes written by one job over `count` items, from its start to its end. */
  async function bytesForFanOut(count: number): Promise<number> {
    const items = Array.from({ length: count }, (_, i) => `pose-${i}`)
    const before = await journalBytes(g.dataDir)
    const res = await g.api('/api/workflows/fan/jobs', { body: { params: { items } } })
    expect(res.status).toBe(202)
    const job = await eventually(async () => {
      const body = (await g.api(`/api/workflow-jobs/${res.body.jobId}`)).body
      return body.status === 'completed' ? body : undefined
    }, 120_000)
    expect(job.steps[0].output).toHaveLength(count)
    return (await journalBytes(g.dataDir)) - before
  }

  it('grows with the number of items, not with its square (100, then 400 items)', async () => {
    const small = (await bytesForFanOut(100)) / 100
    const large = (await bytesForFanOut(400)) / 400
    console.log(`journal: ${Math.round(small)} bytes an item over 100 items, ${Math.round(large)} over 400`)
    // the executor runs 4 at a time, so items end a few at once: before, each end rewrote the job
    // with every result so far (500 items: 42 KB an item, 1,000: 70 KB). Now each item's task is
    // written a few times with its result, and the job about once per percent of progress
    expect(large).toBeLessThan(8_000)
    expect(large).toBeLessThan(small * 1.6)
  }, 240_000)
})
