import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, FIXTURE_PLUGINS, startGantry, type TestGantry } from '../helpers.js'

/** The provider's side: counts calls per `name`, and fails the first call of names listed in `failOnce`. */
async function startUpstream() {
  const calls = new Map<string, number>()
  const failOnce = new Set<string>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const inputs = JSON.parse(body)
      const name = String(inputs.name)
      calls.set(name, (calls.get(name) ?? 0) + 1)
      setTimeout(
        () => {
          if (failOnce.delete(name)) {
            res.statusCode = 500
            res.end('busy')
          } else res.end(`done ${name}`)
        },
        Number(inputs.holdMs ?? 20),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    calls,
    failOnce,
    close: () => new Promise((r) => server.close(r)),
  }
}

const defs = (upstreamUrl: string) => `
kind: Executor
id: m
provider: mock
maxConcurrency: 8
---
kind: Executor
id: up
provider: upstream
maxConcurrency: 8
config: { url: "${upstreamUrl}" }
---
kind: Ability
id: echo
name: Echo
executor: m
input: { type: object, properties: { text: { type: string }, count: { type: integer } } }
---
kind: Ability
id: work
name: Work upstream
executor: up
input: { type: object, required: [name], properties: { name: { type: string }, holdMs: { type: integer } } }
---
kind: Ability
id: planner
name: A text model answering JSON, badly
executor: m
config:
  output:
    texts: ["Sure! Here is the plan:\\n\`\`\`json\\n{'title': 'Fox', 'poses': ['run', 'sit',],}\\n\`\`\`"]
---
kind: Ability
id: priced
name: Priced slow step
executor: m
pricing: { base: 7 }
config: { delayMs: 2000 }
---
kind: Workflow
id: views
name: Three views
input: { type: object, required: [characterName], properties: { characterName: { type: string } } }
steps:
  - id: prompts
    ability: echo
    with: { text: "views of \${{ params.characterName }}" }
  - { id: front, ability: echo, needs: [prompts], with: { text: "front \${{ steps.prompts.output.texts[0] }}" } }
  - { id: side, ability: echo, needs: [prompts], with: { text: "side" } }
  - { id: back, ability: echo, needs: [prompts], with: { text: "back" } }
output:
  front: "\${{ steps.front.output.texts[0] }}"
  all: "\${{ steps.side.output }}"
---
kind: Workflow
id: poses
name: Poses
input: { type: object, required: [poses], properties: { poses: { type: array }, n: { type: integer } } }
steps:
  - id: first
    ability: work
    with: { name: first }
  - id: each
    ability: work
    forEach: "\${{ params.poses }}"
    with: { name: "\${{ item }}" }
  - id: count
    ability: echo
    with: { count: "\${{ params.n }}", text: "\${{ steps.each.output | json }}" }
---
kind: Workflow
id: plan
name: Plan then render
steps:
  - { id: plan, ability: planner, parse: json }
  - id: render
    ability: echo
    forEach: "\${{ steps.plan.output.json.poses }}"
    with: { text: "\${{ steps.plan.output.json.title }} \${{ item }}" }
output: { title: "\${{ steps.plan.output.json.title }}", renders: "\${{ steps.render.output }}" }
---
kind: Workflow
id: single
name: One per character
singleton: "\${{ job.projectId }}-\${{ params.characterId }}"
input: { type: object, properties: { characterId: { type: string } } }
steps:
  - { id: slow, ability: work, with: { name: single, holdMs: 500 } }
---
kind: Workflow
id: costly
name: Two priced steps in parallel
steps:
  - { id: a, ability: priced, needs: [] }
  - { id: b, ability: priced, needs: [] }
`

describe('workflow jobs', () => {
  let g: TestGantry
  let upstream: Awaited<ReturnType<typeof startUpstream>>
  const start = (workflow: string, body: object, token?: string) =>
    g.api(`/api/workflows/${workflow}/jobs`, { body, ...(token ? { token } : {}) })
  const waitJob = (id: string, statuses = ['completed', 'failed', 'canceled'], token?: string) =>
    eventually(async () => {
      const res = await g.api(`/api/workflow-jobs/${id}`, token ? { token } : {})
      return statuses.includes(res.body.status) ? res.body : undefined
    })

  beforeAll(async () => {
    upstream = await startUpstream()
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(FIXTURE_PLUGINS, 'upstream.ts') },
      files: { 'defs.yaml': defs(upstream.url) },
    })
  })
  afterAll(async () => {
    await g.stop()
    await upstream.close()
  })

  it('runs a prompt step, then three views in parallel, and maps the output', async () => {
    const res = await start('views', { params: { characterName: 'Mia' }, projectId: 'p1' })
    expect(res.status).toBe(202)
    expect(res.body.jobId).toBe(res.body.job.id)
    const job = await waitJob(res.body.jobId)
    expect(job).toMatchObject({ status: 'completed', progress: 100, projectId: 'p1' })
    expect(JSON.parse(job.output.front)).toEqual({
      text: `front ${JSON.stringify({ text: 'views of Mia' })}`,
    })
    expect(job.output.all.texts).toEqual(['{"text":"side"}'])
    expect(job.tasks.map((t: { stepId: string; status: string }) => [t.stepId, t.status])).toEqual([
      ['prompts', 'succeeded'],
      ['front', 'succeeded'],
      ['side', 'succeeded'],
      ['back', 'succeeded'],
    ])
    const started = await Promise.all(
      job.tasks
        .slice(1)
        .map(async (t: { taskId: string }) => (await g.api(`/api/ability-tasks/${t.taskId}`)).body),
    )
    const prompt = (await g.api(`/api/ability-tasks/${job.tasks[0].taskId}`)).body
    for (const t of started)
      expect(Date.parse(t.startedAt)).toBeGreaterThanOrEqual(Date.parse(prompt.finishedAt))
  })

  it('refuses params that break the input schema, and unknown workflows', async () => {
    expect((await start('views', { params: {} })).status).toBe(400)
    expect((await start('nope', { params: {} })).status).toBe(404)
  })

  it('keeps the type of a whole-value template (an integer stays an integer)', async () => {
    const res = await start('poses', { params: { poses: [], n: 3 } })
    const job = await waitJob(res.body.jobId)
    expect(job.status).toBe('completed')
    const counted = job.tasks.find((t: { stepId: string }) => t.stepId === 'count')
    expect(JSON.parse(counted.result.texts[0])).toMatchObject({ count: 3 })
  })

  it('fans out over a list; a failed item fails the job; a retry re-runs only what failed', async () => {
    upstream.failOnce.add('b')
    const firstCalls = upstream.calls.get('first') ?? 0
    const res = await start('poses', { params: { poses: ['a', 'b', 'c'], n: 1 } })
    const failed = await waitJob(res.body.jobId)
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatchObject({ stepId: 'each' })
    const items = failed.tasks.filter((t: { stepId: string }) => t.stepId === 'each')
    expect(items.map((t: { status: string }) => t.status)).toEqual(['succeeded', 'failed', 'succeeded'])
    expect(failed.steps.find((s: { id: string }) => s.id === 'count').status).toBe('canceled')

    const retried = await g.api(`/api/workflow-jobs/${res.body.jobId}/retry`, { method: 'POST' })
    expect(retried.status).toBe(200)
    const done = await waitJob(res.body.jobId)
    expect(done.status).toBe('completed')
    // neither the step that had succeeded nor the items that had succeeded ran again
    expect(upstream.calls.get('first')).toBe(firstCalls + 1)
    expect([upstream.calls.get('a'), upstream.calls.get('b'), upstream.calls.get('c')]).toEqual([1, 2, 1])
    const names = JSON.parse(
      JSON.parse(done.tasks.find((t: { stepId: string }) => t.stepId === 'count').result.texts[0]).text,
    )
    expect(names.map((r: { texts: string[] }) => r.texts[0])).toEqual(['done a', 'done b', 'done c'])
  })

  it('parses JSON from a text model, repairing it, and feeds it to the next step', async () => {
    const res = await start('plan', { params: {} })
    const job = await waitJob(res.body.jobId)
    expect(job.status).toBe('completed')
    expect(job.output.title).toBe('Fox')
    expect(job.output.renders.map((r: { texts: string[] }) => JSON.parse(r.texts[0]).text)).toEqual([
      'Fox run',
      'Fox sit',
    ])
  })

  it('starting a singleton job while one is active returns that job, even for concurrent starts', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => start('single', { projectId: 'p9', params: { characterId: 'c1' } })),
    )
    const ids = new Set(results.map((r) => r.body.jobId))
    expect(ids.size).toBe(1)
    const other = await start('single', { projectId: 'p9', params: { characterId: 'c2' } })
    expect(ids.has(other.body.jobId)).toBe(false)
    await waitJob([...ids][0])
    const after = await start('single', { projectId: 'p9', params: { characterId: 'c1' } })
    expect(ids.has(after.body.jobId)).toBe(false)
  })

  it('lists active jobs of a project until consumed', async () => {
    const res = await start('views', { projectId: 'proj-a', params: { characterName: 'A' } })
    await waitJob(res.body.jobId)
    const active = await g.api('/api/workflow-jobs?projectId=proj-a&active=true')
    expect(active.body.items.map((j: { id: string }) => j.id)).toEqual([res.body.jobId])
    const consumed = await g.api(`/api/workflow-jobs/${res.body.jobId}/consume`, { method: 'POST' })
    expect(consumed.body.consumed).toBe(true)
    expect((await g.api('/api/workflow-jobs?projectId=proj-a&active=true')).body.items).toEqual([])
    expect((await g.api('/api/workflow-jobs?projectId=proj-a')).body.items).toHaveLength(1)
  })

  it('cancel stops running steps and releases their credits', async () => {
    const token = g.token('wfuser')
    await g.api('/api/admin/wallets/wfuser/grant', { body: { points: 50, reason: 'test' } })
    const res = await start('costly', { params: {} }, token)
    await eventually(async () => (await g.api('/api/wallet', { token })).body.frozen === 14)
    const canceled = await g.api(`/api/workflow-jobs/${res.body.jobId}/cancel`, { method: 'POST', token })
    expect(canceled.body.status).toBe('canceled')
    expect((await g.api('/api/wallet', { token })).body).toEqual({
      userId: 'wfuser',
      balance: 50,
      frozen: 0,
      available: 50,
    })
    expect(
      (await g.api(`/api/workflow-jobs/${res.body.jobId}/cancel`, { method: 'POST', token })).status,
    ).toBe(409)
    const other = await g.api(`/api/workflow-jobs/${res.body.jobId}`, { token: g.token('stranger') })
    expect(other.status).toBe(404)
  })

  it('a step the wallet cannot cover fails the job; its task shows why, and the other step is canceled', async () => {
    const token = g.token('short')
    await g.api('/api/admin/wallets/short/grant', { body: { points: 10, reason: 'test' } })
    const res = await start('costly', { params: {} }, token)
    const job = await waitJob(res.body.jobId, ['completed', 'failed', 'canceled'], token)
    expect(job.status).toBe('failed')
    expect(job.error).toMatchObject({ code: 'INSUFFICIENT_CREDITS', stepId: 'b' })
    expect(job.tasks.map((t: { stepId: string; status: string }) => [t.stepId, t.status])).toEqual([
      ['a', 'canceled'],
      ['b', 'failed'],
    ])
    expect(job.tasks[1].error.code).toBe('INSUFFICIENT_CREDITS')
    expect((await g.api(`/api/ability-tasks/${job.tasks[1].taskId}`, { token })).status).toBe(404)
    await eventually(async () => (await g.api('/api/wallet', { token })).body.frozen === 0)
    expect((await g.api('/api/wallet', { token })).body.available).toBe(10)
  })
})

describe('a workflow job across a restart', () => {
  it('resumes from its completed steps: a succeeded step is not run again, and the job completes', async () => {
    const upstream = await startUpstream()
    const files = {
      'defs.yaml': `${defs(upstream.url)}---
kind: Workflow
id: long
name: Long
steps:
  - { id: one, ability: work, with: { name: one } }
  - { id: two, ability: work, with: { name: two, holdMs: 1500 } }
  - { id: three, ability: work, with: { name: three } }
`,
    }
    const env = { GANTRY_PLUGINS: join(FIXTURE_PLUGINS, 'upstream.ts'), GANTRY_SHUTDOWN_GRACE: '100ms' }
    let g = await startGantry({ files, env })
    try {
      const res = await g.api('/api/workflows/long/jobs', { body: { params: {} } })
      await eventually(() => upstream.calls.get('two') === 1, 20_000)
      const root = g.root
      await g.stop({ keep: true })
      g = await startGantry({ root, env })
      const job = await eventually(async () => {
        const j = (await g.api(`/api/workflow-jobs/${res.body.jobId}`)).body
        return j.status === 'completed' ? j : undefined
      })
      expect(job.steps.map((s: { status: string }) => s.status)).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
      ])
      expect([upstream.calls.get('one'), upstream.calls.get('two'), upstream.calls.get('three')]).toEqual([
        1, 2, 1,
      ])
    } finally {
      await g.stop()
      await upstream.close()
    }
  })
})
