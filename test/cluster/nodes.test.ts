/**
 * Several `gantry serve` processes on one PostgreSQL schema, as operators run
 * them: one queue and one executor limit across nodes, one ledger, one event
 * stream, and the tasks of a node killed with -9 taken over by the others.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signToken } from '../../core/auth/jwt.js'
import { eventually, FIXTURE_PLUGINS, JWT_SECRET, makeTempDir, WAIT_MS } from '../helpers.js'
import { openStream } from '../notify/notify-harness.js'
import { dropSchema, newSchema, PG_URL, SKIP_TITLE } from '../pg-schema.js'
import { type ServerProcess, serve, startCountingUpstream } from '../process-helpers.js'

const LEASE_MS = 1500

const DEFS = `kind: Executor
id: up
provider: upstream
maxConcurrency: 3
config: { url: "\${env:UPSTREAM_URL}" }
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
maxConcurrency: 8
---
kind: Ability
id: quick
name: Quick
executor: m
pricing: { base: 10 }
config: { delayMs: 50 }
`

const WORKFLOW = `kind: Workflow
id: spread
name: Spread over the nodes
steps:
  - id: first
    ability: work
    with: { n: first }
  - id: fan
    ability: work
    needs: [first]
    forEach: [0, 1, 2, 3, 4, 5]
    with: { n: "fan-\${{ item }}" }
  - id: last
    ability: work
    needs: [fan]
    with: { n: last }
output:
  fanned: "\${{ steps.fan.output }}"
`

const ENDED = ['succeeded', 'failed', 'canceled']
const tokenOf = (sub: string, role: 'user' | 'admin' = 'user') =>
  signToken({ sub, role }, { secret: JWT_SECRET })
const admin = tokenOf('ops', 'admin')

async function api(url: string, path: string, opts: { body?: unknown; token?: string } = {}) {
  const res = await fetch(url + path, {
    method: opts.body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${opts.token ?? admin}`, 'content-type': 'application/json' },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
  })
  return { status: res.status, body: (await res.json()) as any }
}

/** A test here starts and kills server processes: slow on a busy machine, so its cap is generous. */
const PROCESS_TEST_MS = 240_000

async function allEnded(url: string, ids: string[], timeoutMs = WAIT_MS) {
  return eventually(
    async () => {
      const tasks = await Promise.all(
        ids.map(async (id) => (await api(url, `/api/ability-tasks/${id}`)).body),
      )
      return tasks.every((t) => ENDED.includes(t.status)) ? tasks : undefined
    },
    timeoutMs,
    100,
  )
}

describe.skipIf(!PG_URL)(`three Gantry processes on one PostgreSQL${PG_URL ? '' : `: ${SKIP_TITLE}`}`, () => {
  const schema = newSchema('nodes')
  const nodes: ServerProcess[] = []
  let upstream: Awaited<ReturnType<typeof startCountingUpstream>>
  let root: string
  let env: (name: string) => Record<string, string>

  beforeAll(async () => {
    upstream = await startCountingUpstream(300)
    root = await makeTempDir()
    await mkdir(join(root, 'abilities'))
    await writeFile(join(root, 'abilities/defs.yaml'), DEFS)
    await mkdir(join(root, 'workflows'))
    await writeFile(join(root, 'workflows/spread.yaml'), WORKFLOW)
    env = (name) => ({
      PORT: '0',
      GANTRY_STORE: PG_URL!,
      GANTRY_PG_SCHEMA: schema,
      GANTRY_DATA_DIR: join(root, `data-${name}`),
      GANTRY_ABILITIES_DIR: join(root, 'abilities'),
      GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
      GANTRY_JWT_SECRET: JWT_SECRET,
      GANTRY_PLUGINS: join(FIXTURE_PLUGINS, 'upstream.ts'),
      GANTRY_MAX_WORKERS: '1',
      GANTRY_LEASE_MS: String(LEASE_MS),
      GANTRY_ALLOW_PRIVATE_CALLBACKS: 'true',
      UPSTREAM_URL: upstream.url,
    })
    nodes.push(...(await Promise.all(['a', 'b', 'c'].map((name) => serve(env(name))))))
  }, PROCESS_TEST_MS)

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await upstream?.close()
    await dropSchema(schema)
    if (root) await rm(root, { recursive: true, force: true })
  }, PROCESS_TEST_MS)

  it(
    'never runs more calls of an executor than its maxConcurrency across nodes, tasks and sync calls alike',
    async () => {
      upstream.reset()
      await api(nodes[0].url, '/api/admin/wallets/ops/grant', { body: { points: 1000, reason: 'test' } })
      const submitted = await Promise.all(
        Array.from({ length: 18 }, (_, n) =>
          api(nodes[n % 3].url, '/api/ability-tasks', { body: { abilityId: 'work', inputs: { n } } }),
        ),
      )
      const invoked = Promise.all(
        [100, 101, 102, 103, 104, 105].map((n) =>
          api(nodes[n % 3].url, '/api/abilities/work/invoke', { body: { inputs: { n } } }),
        ),
      )
      expect(submitted.map((r) => r.status)).toEqual(Array(18).fill(202))
      // any node's queue status counts the whole cluster
      const status = await eventually(async () => {
        const { body } = await api(nodes[2].url, '/api/admin/executors/up/queue-status')
        return body.running === 3 && body.queued > 0 ? body : undefined
      })
      expect(status).toMatchObject({ executorId: 'up', maxConcurrency: 3, running: 3 })
      const tasks = await allEnded(
        nodes[1].url,
        submitted.map((r) => r.body.id),
      )
      expect(tasks.map((t) => t.status)).toEqual(Array(18).fill('succeeded'))
      expect((await invoked).map((r) => r.status)).toEqual(Array(6).fill(200))
      expect(upstream.mostInFlight()).toBe(3)
      for (const n of [...Array(18).keys(), 100, 101, 102, 103, 104, 105])
        expect(upstream.calls.get(n)).toBe(1)
    },
    PROCESS_TEST_MS,
  )

  it(
    'never overdraws a wallet with priced submits racing on every node',
    async () => {
      const payer = tokenOf('payer')
      await api(nodes[2].url, '/api/admin/wallets/payer/grant', { body: { points: 50, reason: 'test' } })
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          api(nodes[n % 3].url, '/api/ability-tasks', { body: { abilityId: 'quick' }, token: payer }),
        ),
      )
      const accepted = answers.filter((r) => r.status === 202)
      expect(accepted).toHaveLength(5)
      expect(answers.filter((r) => r.status === 402)).toHaveLength(25)
      expect(answers.find((r) => r.status === 402)?.body.error.code).toBe('INSUFFICIENT_CREDITS')
      const ended = await allEnded(
        nodes[0].url,
        accepted.map((r) => r.body.id),
      )
      expect(ended.map((t) => t.status)).toEqual(Array(5).fill('succeeded'))
      for (const node of nodes) {
        expect((await api(node.url, '/api/wallet', { token: payer })).body).toEqual({
          userId: 'payer',
          balance: 0,
          frozen: 0,
          available: 0,
        })
      }
    },
    PROCESS_TEST_MS,
  )

  it(
    'delivers each callback once, whichever node ended the task',
    async () => {
      const received: string[] = []
      const receiver = createServer((req, res) => {
        received.push(String(req.headers['webhook-id']))
        req.resume()
        // a slow receiver: the delivery stays pending meanwhile, where another dispatcher would find it
        setTimeout(() => res.end('ok'), 1500)
      })
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
      try {
        const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
        await api(nodes[0].url, '/api/admin/wallets/ops/grant', { body: { points: 90, reason: 'test' } })
        const submitted = await Promise.all(
          Array.from({ length: 9 }, (_, n) =>
            api(nodes[n % 3].url, '/api/ability-tasks', { body: { abilityId: 'quick', callbackUrl } }),
          ),
        )
        const tasks = await allEnded(
          nodes[0].url,
          submitted.map((r) => r.body.id),
        )
        expect(tasks.map((t) => t.status)).toEqual(Array(9).fill('succeeded'))
        await eventually(() => received.length >= 9)
        // a little longer: a second dispatcher would have sent duplicates by now
        await new Promise((r) => setTimeout(r, 2500))
        expect(received).toHaveLength(9)
        expect(new Set(received).size).toBe(9)
      } finally {
        await new Promise((r) => receiver.close(r))
      }
    },
    PROCESS_TEST_MS,
  )

  it(
    'shows an SSE client on one node the tasks another node ran, and replays them from any node',
    async () => {
      // node d cannot run the upstream executor (its URL is not set there), so another node must
      const { UPSTREAM_URL: _, ...blind } = env('d')
      const d = await serve(blind)
      nodes.push(d)
      const viewer = tokenOf('viewer')
      await api(nodes[0].url, '/api/admin/wallets/viewer/grant', { body: { points: 100, reason: 'test' } })
      const onD = openStream(`${d.url}/api/notify/v1`, { token: viewer })
      await onD.opened
      const task = await api(nodes[0].url, '/api/ability-tasks', {
        body: { abilityId: 'work', inputs: { n: 500 } },
        token: viewer,
      })
      expect(task.status).toBe(202)
      const seen = await eventually(() => {
        const mine = onD.events.filter(
          (e) => e.type === 'ability-task.status' && e.payload.id === task.body.id,
        )
        return mine.some((e) => e.payload.status === 'succeeded') ? onD.events : undefined
      })
      onD.close()
      const statuses = seen.filter((e) => e.type === 'ability-task.status').map((e) => e.payload.status)
      expect(statuses).toEqual(['queued', 'running', 'succeeded'])
      expect(seen.map((e) => e.type)).toContain('wallet.points')
      // Last-Event-ID against another node: the same events, with the same ids, after the one given
      const fromB = openStream(`${nodes[1].url}/api/notify/v1`, { token: viewer, lastEventId: seen[0].id })
      const replayed = await eventually(() =>
        fromB.events.length >= seen.length - 1 ? fromB.events : undefined,
      )
      fromB.close()
      expect(replayed.slice(0, seen.length - 1).map((e) => [e.id, e.type])).toEqual(
        seen.slice(1).map((e) => [e.id, e.type]),
      )
    },
    PROCESS_TEST_MS,
  )

  it(
    'runs a workflow on the cluster: each step once within the executor limit, the job completed and seen alike from every node',
    async () => {
      upstream.reset()
      await api(nodes[0].url, '/api/admin/wallets/ops/grant', { body: { points: 80, reason: 'test' } })
      const started = await api(nodes[1].url, '/api/workflows/spread/jobs', { body: { params: {} } })
      expect(started.status).toBe(202)
      const job = await eventually(
        async () => {
          const j = (await api(nodes[0].url, `/api/workflow-jobs/${started.body.jobId}`)).body
          return ['completed', 'failed', 'canceled'].includes(j.status) ? j : undefined
        },
        WAIT_MS,
        100,
      )
      expect(job.status).toBe('completed')
      const fromC = (await api(nodes[2].url, `/api/workflow-jobs/${started.body.jobId}`)).body
      expect(fromC).toEqual(job)
      expect(job.output.fanned).toHaveLength(6)
      expect([...upstream.calls.keys()].sort()).toEqual(
        ['fan-0', 'fan-1', 'fan-2', 'fan-3', 'fan-4', 'fan-5', 'first', 'last'].sort(),
      )
      expect([...upstream.calls.values()]).toEqual(Array(8).fill(1))
      // within the limit; whether the fan-out reaches it depends on how busy the machine is
      expect(upstream.mostInFlight()).toBeLessThanOrEqual(3)
    },
    PROCESS_TEST_MS,
  )

  it(
    'cancels from any node a task running on another: it ends at once and its call is stopped',
    async () => {
      upstream.reset()
      const blind = nodes[3]
      const task = await api(nodes[0].url, '/api/ability-tasks', {
        body: { abilityId: 'work', inputs: { n: 'long', holdMs: 20_000 } },
      })
      await eventually(() => upstream.calls.get('long') === 1)
      const canceled = await api(blind.url, `/api/ability-tasks/${task.body.id}/cancel`, { body: {} })
      expect(canceled.body).toMatchObject({ id: task.body.id, status: 'canceled' })
      // the node running it heard the signal and stopped the call long before it would have ended
      await eventually(() => upstream.cut.has('long'))
      expect(upstream.calls.get('long')).toBe(1)
    },
    PROCESS_TEST_MS,
  )

  it(
    'takes over the tasks of a node killed with -9: each ends once, and only calls cut by the kill ran again, after their lease',
    async () => {
      upstream.reset()
      const victim = nodes[2]
      // submitted to the victim, which claims at once while the others wait for a freed slot or their poll;
      // each call is held long enough that none is answered before the kill (an answered call that the
      // node had no time to record would rightly run again, uncut)
      const ids: string[] = []
      for (let n = 200; n < 209; n++)
        ids.push(
          (
            await api(victim.url, '/api/ability-tasks', {
              body: { abilityId: 'work', inputs: { n, holdMs: 1500 } },
            })
          ).body.id,
        )
      await eventually(() => upstream.inFlight() === 3)
      const killedAt = Date.now()
      await victim.kill()
      const tasks = await allEnded(nodes[0].url, ids)
      expect(tasks.map((t) => t.status)).toEqual(Array(9).fill('succeeded'))
      expect(upstream.cut.size).toBeGreaterThan(0)
      for (let n = 200; n < 209; n++) {
        expect({ n, calls: upstream.calls.get(n) }).toEqual({ n, calls: upstream.cut.has(n) ? 2 : 1 })
      }
      // nothing ran again while the dead node's lease could still have been alive
      for (const n of upstream.cut) expect(upstream.times.get(n)![1] - killedAt).toBeGreaterThan(LEASE_MS / 2)
      const running = await api(nodes[0].url, '/api/ability-tasks?status=running')
      expect(running.body.items).toEqual([])
    },
    PROCESS_TEST_MS,
  )
})
