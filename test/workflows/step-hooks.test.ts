import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, makeTempDir, ROOT, startGantry, type TestGantry } from '../helpers.js'

const defs = `
kind: Executor
id: m
provider: mock
---
kind: Ability
id: draw
name: Draw
executor: m
pricing: { base: 5 }
input: { type: object, properties: { prompt: { type: string } } }
---
kind: Workflow
id: picture
name: One picture
input: { type: object, required: [subject], properties: { subject: { type: string } } }
steps:
  - { id: draw, ability: draw, with: { prompt: "a \${{ params.subject }}" } }
---
kind: Workflow
id: gallery
name: A picture of each
input: { type: object, required: [subjects], properties: { subjects: { type: array } } }
steps:
  - { id: draw, ability: draw, forEach: "\${{ params.subjects }}", with: { prompt: "a \${{ item }}" } }
`

// the example-audit plugin refuses inputs that mention a blocked word, and stamps the others with an auditId
describe('workflow steps pass the plugins’ beforeInvoke hooks, as tasks do', () => {
  let g: TestGantry
  const wallet = async (user: string) => (await g.api('/api/wallet', { token: g.token(user) })).body
  const grant = (user: string, points: number) =>
    g.api(`/api/admin/wallets/${user}/grant`, { body: { points, reason: 'test' } })
  const finished = (user: string, jobId: string) =>
    eventually(async () => {
      const job = (await g.api(`/api/workflow-jobs/${jobId}`, { token: g.token(user) })).body
      return ['completed', 'failed', 'canceled'].includes(job.status) ? job : undefined
    })

  beforeAll(async () => {
    process.env.GANTRY_AUDIT_FILE = join(await makeTempDir(), 'audit.jsonl')
    process.env.GANTRY_AUDIT_BLOCKED = 'dragon'
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/example-audit/index.ts') },
      files: { 'defs.yaml': defs },
    })
  })
  afterAll(async () => {
    delete process.env.GANTRY_AUDIT_FILE
    delete process.env.GANTRY_AUDIT_BLOCKED
    await g.stop()
  })

  it('a word refused on a task fails the step with the same code and message; the job fails, nothing is charged', async () => {
    const token = g.token('ann')
    await grant('ann', 20)
    const task = await g.api('/api/ability-tasks', {
      token,
      body: { abilityId: 'draw', inputs: { prompt: 'a dragon' } },
    })
    expect(task.status).toBe(403)
    const refusal = { code: 'FORBIDDEN', message: task.body.error.message }
    expect(refusal.message).toMatch(/dragon/)

    const started = await g.api('/api/workflows/picture/jobs', {
      token,
      body: { params: { subject: 'dragon' } },
    })
    expect(started.status).toBe(202)
    const job = await finished('ann', started.body.jobId)
    expect(job.status).toBe('failed')
    expect(job.error).toEqual({ ...refusal, stepId: 'draw' })
    expect(job.steps[0]).toMatchObject({ id: 'draw', status: 'failed', error: refusal })
    expect((await g.api('/api/ability-tasks', { token })).body.items).toEqual([])
    expect(await wallet('ann')).toEqual({ userId: 'ann', balance: 20, frozen: 0, available: 20 })
  })

  it('one refused item of a forEach fails the step before any item is stored or held', async () => {
    const token = g.token('bob')
    await grant('bob', 20)
    const started = await g.api('/api/workflows/gallery/jobs', {
      token,
      body: { params: { subjects: ['fox', 'dragon', 'owl'] } },
    })
    const job = await finished('bob', started.body.jobId)
    expect(job.status).toBe('failed')
    expect(job.error).toMatchObject({ code: 'FORBIDDEN', stepId: 'draw' })
    expect((await g.api('/api/ability-tasks', { token })).body.items).toEqual([])
    expect(await wallet('bob')).toEqual({ userId: 'bob', balance: 20, frozen: 0, available: 20 })
  })

  it('an allowed word runs, charged, with the metadata the hooks add, as a task does', async () => {
    const token = g.token('cat')
    await grant('cat', 20)
    const started = await g.api('/api/workflows/picture/jobs', {
      token,
      body: { params: { subject: 'fox' } },
    })
    const job = await finished('cat', started.body.jobId)
    expect(job.status).toBe('completed')
    const step = (await g.api(`/api/ability-tasks/${job.tasks[0].taskId}`, { token })).body
    expect(step.metadata).toMatchObject({
      jobId: job.id,
      stepId: 'draw',
      auditId: expect.stringMatching(/^audit-/),
    })
    expect(await wallet('cat')).toEqual({ userId: 'cat', balance: 15, frozen: 0, available: 15 })
  })
})
