import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { signToken } from '../../core/auth/jwt.js'
import { eventually, FIXTURE_PLUGINS, JWT_SECRET, makeTempDir, ROOT, WAIT_MS } from '../helpers.js'
import { serve, startCountingUpstream } from '../process-helpers.js'

describe('a kill -9 with tasks queued and running', () => {
  const cleanup: (() => Promise<unknown>)[] = []
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })

  it('loses no task: after a restart each reaches one end state, and only calls cut by the crash ran twice', async () => {
    // the first calls hang until the kill cuts them, so the crash finds two running however slow the machine
    const upstream = await startCountingUpstream(10 * 60_000)
    cleanup.push(upstream.close)
    const root = await makeTempDir()
    cleanup.push(() => rm(root, { recursive: true, force: true }))
    await mkdir(join(root, 'abilities'))
    await writeFile(
      join(root, 'abilities/defs.yaml'),
      `kind: Executor
id: up
provider: upstream
maxConcurrency: 2
config: { url: "${upstream.url}" }
---
kind: Ability
id: work
name: Work on the upstream
executor: up
retry: { max: 1, backoff: 10ms }
pricing: { base: 10 }
---
kind: Executor
id: m
provider: mock
---
kind: Ability
id: job
name: A submitted job
executor: m
poll: { interval: 100ms }
config: { async: true, delayMs: 2500 }
`,
    )
    const env = {
      PORT: '0',
      GANTRY_DATA_DIR: join(root, 'data'),
      GANTRY_ABILITIES_DIR: join(root, 'abilities'),
      GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
      GANTRY_JWT_SECRET: JWT_SECRET,
      GANTRY_PLUGINS: join(FIXTURE_PLUGINS, 'upstream.ts'),
      GANTRY_MAX_WORKERS: '1',
    }
    const token = signToken({ sub: 'ops', role: 'admin' }, { secret: JWT_SECRET })
    const api = async (url: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      })
      return res.json() as Promise<any>
    }

    const first = await serve(env)
    await api(first.url, '/api/admin/wallets/ops/grant', { points: 1000, reason: 'crash test' })
    const ids: string[] = []
    for (let n = 0; n < 8; n++)
      ids.push((await api(first.url, '/api/ability-tasks', { abilityId: 'work', inputs: { n } })).id)
    const job = await api(first.url, '/api/ability-tasks', { abilityId: 'job' })
    const jobBefore = await eventually(async () => {
      const t = await api(first.url, `/api/ability-tasks/${job.id}`)
      return t.externalId ? t : undefined
    })
    await eventually(() => upstream.inFlight() === 2)
    const before = await Promise.all(ids.map((id) => api(first.url, `/api/ability-tasks/${id}`)))
    const runningAtCrash = new Set(before.filter((t) => t.status === 'running').map((t) => t.inputs.n))
    expect(runningAtCrash.size).toBe(2)

    await first.kill()
    upstream.setHoldMs(50)

    const second = await serve(env)
    cleanup.push(second.stop)
    const ended = await eventually(
      async () => {
        const all = await Promise.all(
          [...ids, job.id].map((id) => api(second.url, `/api/ability-tasks/${id}`)),
        )
        return all.every((t) => ['succeeded', 'failed', 'canceled'].includes(t.status)) ? all : undefined
      },
      WAIT_MS,
      200,
    )
    expect(ended.map((t) => t.status)).toEqual(Array(9).fill('succeeded'))
    for (let n = 0; n < 8; n++) {
      const expected = runningAtCrash.has(n) ? 2 : 1
      expect({ n, calls: upstream.calls.get(n) }).toEqual({ n, calls: expected })
    }
    // the submitted job was polled again, not submitted twice
    expect(ended[8].externalId).toBe(jobBefore.externalId)
    // and nothing was left running
    const list = await api(second.url, '/api/ability-tasks?status=running')
    expect(list.items).toEqual([])
    // holds of the tasks cut by the crash were not lost or left frozen: each task was charged once
    expect(await api(second.url, '/api/wallet')).toEqual({
      userId: 'ops',
      balance: 920,
      frozen: 0,
      available: 920,
    })

    await second.stop()
    const verify = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, 'core/cli/gantry.js'), 'ledger', 'verify'], {
          env: { ...process.env, ...env },
        })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.stderr.on('data', (d) => (out += d))
        child.on('exit', (code) => resolve({ code, out }))
      })
    const clean = await verify()
    expect(clean).toMatchObject({ code: 0, out: expect.stringContaining('every wallet matches') })
    // change one committed amount behind Gantry's back: verify finds it
    const journalFile = join(root, 'data/journal/segment-000001.jsonl')
    const text = await readFile(journalFile, 'utf8')
    const tampered = text.replace('"kind":"commit","points":10', '"kind":"commit","points":1')
    expect(tampered).not.toBe(text)
    await writeFile(journalFile, tampered)
    const dirty = await verify()
    expect(dirty.code).toBe(1)
    expect(dirty.out).toMatch(
      /ops: recorded balance \d+ frozen \d+, entries add up to balance \d+ frozen \d+ \(first at entry /,
    )
  }, 300_000)
})
