import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SeenCall } from '../fixtures/plugins/typed-events.js'
import {
  eventually,
  FIXTURE_PLUGINS,
  makeTempDir,
  ROOT,
  startGantry,
  type TestGantry,
  waitForTask,
} from '../helpers.js'

describe('plugin hooks', () => {
  let g: TestGantry
  let auditFile: string
  beforeAll(async () => {
    auditFile = join(await makeTempDir(), 'audit.jsonl')
    process.env.GANTRY_AUDIT_FILE = auditFile
    process.env.GANTRY_AUDIT_BLOCKED = 'dragon'
    g = await startGantry({
      env: {
        GANTRY_PLUGINS: [
          join(ROOT, 'plugins/example-audit/index.ts'),
          join(FIXTURE_PLUGINS, 'unruly-hooks.ts'),
          join(FIXTURE_PLUGINS, 'refusing-hooks.ts'),
          join(FIXTURE_PLUGINS, 'typed-events.ts'),
        ].join(','),
      },
      files: {
        'a.yaml':
          'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\n',
      },
    })
  })
  afterAll(async () => {
    delete process.env.GANTRY_AUDIT_FILE
    delete process.env.GANTRY_AUDIT_BLOCKED
    await g.stop()
  })

  it('beforeInvoke adds metadata; a hook that throws something else is skipped', async () => {
    const res = await g.api('/api/abilities/echo/invoke', {
      body: { inputs: { prompt: 'a fox' }, metadata: { traceId: 't1' } },
    })
    expect(res.status).toBe(200)
    expect(res.body.metadata).toMatchObject({ traceId: 't1', auditId: expect.stringMatching(/^audit-/) })
  })

  it('beforeInvoke refuses a call with its code, for sync calls and tasks alike', async () => {
    const sync = await g.api('/api/abilities/echo/invoke', { body: { inputs: { prompt: 'a red dragon' } } })
    expect(sync.status).toBe(403)
    expect(sync.body.error).toMatchObject({ code: 'FORBIDDEN', details: { plugin: 'audit' } })
    const task = await g.api('/api/ability-tasks', {
      body: { abilityId: 'echo', inputs: { prompt: 'dragon' } },
    })
    expect(task.status).toBe(403)
  })

  it('a ProviderError thrown by beforeInvoke refuses the call as a HookRejection does', async () => {
    const calls = [
      (refuse: string) => g.api('/api/abilities/echo/invoke', { body: { inputs: { refuse } } }),
      (refuse: string) => g.api('/api/ability-tasks', { body: { abilityId: 'echo', inputs: { refuse } } }),
    ]
    for (const call of calls) {
      const refused = await call('forbidden')
      expect(refused.status).toBe(403)
      expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', details: { plugin: 'refusing' } })
      // its own code's status, as for a HookRejection: PROVIDER_ERROR is 502
      const coded = await call('default')
      expect(coded.status).toBe(502)
      expect(coded.body.error).toMatchObject({
        code: 'PROVIDER_ERROR',
        message: 'the upstream quota is spent',
      })
    }
    const tasks = await g.api('/api/ability-tasks?limit=100')
    expect(tasks.body.items.filter((t: any) => t.inputs?.refuse)).toEqual([])
  })

  it('a hook that overruns its time box is skipped and the call goes on', async () => {
    const t0 = Date.now()
    const res = await g.api('/api/abilities/echo/invoke', { body: { inputs: { hang: true } } })
    expect(res.status).toBe(200)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900)
  })

  it('onEvent gets each event with the payload the event map documents', async () => {
    const res = await g.api('/api/ability-tasks', { body: { abilityId: 'echo', inputs: { typed: true } } })
    expect(res.status).toBe(202)
    const seen = (globalThis as { typedEventsSeen?: SeenCall[] }).typedEventsSeen ?? []
    const call = await eventually(async () => seen.find((c) => c.taskId === res.body.id))
    expect(call).toEqual({
      callId: expect.any(String),
      taskId: res.body.id,
      abilityId: 'echo',
      executorId: 'm',
      status: 'succeeded',
      durationMs: expect.any(Number),
    })
  })

  it('onEvent sees the bus: task status changes and logs reach the audit file', async () => {
    const res = await g.api('/api/ability-tasks', { body: { abilityId: 'echo', inputs: { n: 1 } } })
    await waitForTask(g, res.body.id)
    const lines = await eventually(async () => {
      const text = await readFile(auditFile, 'utf8').catch(() => '')
      const events = text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
      return events.some((e) => e.type === 'ability-task.status' && e.payload.task.status === 'succeeded')
        ? events
        : undefined
    })
    const types = new Set(lines.map((e: { type: string }) => e.type))
    for (const type of [
      'task.queued',
      'call.started',
      'call.finished',
      'ability-log.created',
      'ability-task.status',
    ]) {
      expect(types.has(type)).toBe(true)
    }
  })
})
