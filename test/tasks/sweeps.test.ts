import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'

const DEFS = `
kind: Executor
id: single
provider: mock
maxConcurrency: 1
---
kind: Ability
id: hog
name: Holds the executor
executor: single
---
kind: Ability
id: impatient
name: Will not wait long
executor: single
queueTimeout: 200ms
`

describe('sweeps', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env: { GANTRY_RETENTION: '1s' } })
  })
  afterAll(() => g.stop())

  it('fails a task queued past its queueTimeout with TIMEOUT, and the executor goes on', async () => {
    // the hog holds the executor far longer than the 200 ms queue timeout, even on a busy machine
    const hog = await g.api('/api/ability-tasks', { body: { abilityId: 'hog', inputs: { delayMs: 5000 } } })
    await waitForTask(g, hog.body.id, ['running'])
    const waiting = await g.api('/api/ability-tasks', { body: { abilityId: 'impatient' } })
    await new Promise((r) => setTimeout(r, 300)) // past the queue timeout: time itself is the condition
    const report = await g.api('/api/admin/sweep', { method: 'POST' })
    expect(report.body.queuedTimedOut).toBe(1)
    const swept = (await g.api(`/api/ability-tasks/${waiting.body.id}`)).body
    expect(swept).toMatchObject({ status: 'failed', errorCode: 'TIMEOUT', attempts: 0 })
    expect(swept.errorMessage).toMatch(/in the queue/)
    expect((await waitForTask(g, hog.body.id)).status).toBe('succeeded')
  })

  it('removes ended tasks past retention', async () => {
    const t = await g.api('/api/ability-tasks', { body: { abilityId: 'hog' } })
    await waitForTask(g, t.body.id)
    await new Promise((r) => setTimeout(r, 1100))
    const report = await g.api('/api/admin/sweep', { method: 'POST' })
    expect(report.body.tasksRemoved).toBeGreaterThanOrEqual(1)
    expect((await g.api(`/api/ability-tasks/${t.body.id}`)).status).toBe(404)
  })
})
