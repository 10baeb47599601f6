import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { dropSchema, newSchema, PG_URL, SKIP_TITLE } from '../pg-schema.js'

const DEFS = `
kind: Executor
id: mock
provider: mock
---
kind: Ability
id: echo
name: Echo
executor: mock
`

// written by hand, as a disk or an editor might leave them: whole lines, but not usable
const DAMAGE = [
  // complete (it ends in a newline) but not JSON
  '{"ops":[{"c":"task","k":"t-garbled","v":{"id":"t-gar\u0000\u0000\u0000\n',
  // JSON, but a task without user, ability, executor, attempts...: every start used to stop on it
  '{"ops":[{"c":"task","k":"t-broken","v":{"id":"t-broken","status":"running"}}]}\n',
  '{"ops":[{"c":"job","k":"j-broken","v":{"id":"j-broken","status":"running"}}]}\n',
  '{"ops":[{"c":"ledger","k":"l-broken","v":{"id":"l-broken","kind":"hold","holdKey":"task:t-broken"}}]}\n',
]

describe('a journal with a garbled line and records missing fields', () => {
  let g: TestGantry | undefined
  afterAll(() => g?.stop())

  it('starts anyway, serves the other tasks, and reports what it set aside on /metrics, in the log dir and to admins', async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
    await g.api('/api/admin/wallets/alice/grant', { body: { points: 50, reason: 'test' } })
    const alice = g.token('alice')
    const ids: string[] = []
    for (const text of ['one', 'two']) {
      const res = await g.api('/api/ability-tasks', {
        body: { abilityId: 'echo', inputs: { text } },
        token: alice,
      })
      expect(res.status).toBe(202)
      ids.push(res.body.id)
    }
    for (const id of ids) await waitForTask(g, id)
    const root = g.root
    await g.stop({ keep: true })
    g = undefined
    await appendFile(join(root, 'data/journal/segment-000001.jsonl'), DAMAGE.join(''))

    g = await startGantry({ root, files: { 'defs.yaml': DEFS } })
    const listed = await g.api('/api/ability-tasks?limit=10', { token: alice })
    expect(listed.status).toBe(200)
    expect(listed.body.items.map((t: { id: string }) => t.id).sort()).toEqual([...ids].sort())
    expect((await g.api('/api/wallet', { token: alice })).body).toMatchObject({ balance: 50, frozen: 0 })
    const fresh = await g.api('/api/ability-tasks', {
      body: { abilityId: 'echo', inputs: { text: 'three' } },
      token: alice,
    })
    expect((await waitForTask(g, fresh.body.id)).status).toBe('succeeded')

    const metrics = (await g.api('/metrics')).body as string
    expect(metrics).toContain('gantry_store_unreadable_lines_total 1')
    expect(metrics).toContain('gantry_store_quarantined_records_total{collection="task"} 1')
    expect(metrics).toContain('gantry_store_quarantined_records_total{collection="job"} 1')
    expect(metrics).toContain('gantry_store_quarantined_records_total{collection="ledger"} 1')

    const damage = await g.api('/api/admin/store/damage')
    expect(damage.body).toMatchObject({
      unreadableLines: 1,
      quarantined: expect.arrayContaining([
        { collection: 'task', key: 't-broken', reason: expect.stringContaining('userId') },
      ]),
    })
    expect((await g.api('/api/admin/store/damage', { token: alice })).status).toBe(403)

    // kept aside whole, once, however many starts find it again
    await g.stop({ keep: true })
    g = await startGantry({ root, files: { 'defs.yaml': DEFS } })
    const kept = (await readFile(join(root, 'data/quarantine.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(kept.map((q) => q.key).sort()).toEqual(['j-broken', 'l-broken', 't-broken'])
    expect(kept.find((q) => q.key === 't-broken').record.v).toEqual({ id: 't-broken', status: 'running' })
  }, 90_000)
})

describe.skipIf(!PG_URL)('PostgreSQL: rows whose records miss what a start needs (GANTRY_TEST_PG)', () => {
  const schema = newSchema('gantry_damage')
  const env = { GANTRY_STORE: PG_URL ?? '', GANTRY_PG_SCHEMA: schema }
  let g: TestGantry | undefined
  afterAll(async () => {
    await g?.stop()
    await dropSchema(schema)
  })

  it('starts anyway, serves the other tasks, and counts the rows it skipped on /metrics', async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env })
    const alice = g.token('alice')
    const good = await g.api('/api/ability-tasks', {
      body: { abilityId: 'echo', inputs: { text: 'one' } },
      token: alice,
    })
    await waitForTask(g, good.body.id, undefined, 8000, alice)
    const root = g.root
    await g.stop({ keep: true })
    g = undefined

    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      await client.query(`SET search_path TO "${schema}"`)
      await client.query(
        `INSERT INTO tasks (id, user_id, ability_id, status, attempts, record, executor_id)
         VALUES ('t-broken', 'alice', 'echo', 'running', 1, '{"id":"t-broken","status":"running"}', 'mock')`,
      )
      await client.query(
        `INSERT INTO jobs (id, user_id, status, consumed, record)
         VALUES ('j-broken', 'alice', 'running', false, '{"id":"j-broken","status":"running"}')`,
      )
    } finally {
      await client.end()
    }

    g = await startGantry({ root, files: { 'defs.yaml': DEFS }, env })
    expect((await g.api(`/api/ability-tasks/${good.body.id}`, { token: alice })).body.status).toBe(
      'succeeded',
    )
    const fresh = await g.api('/api/ability-tasks', {
      body: { abilityId: 'echo', inputs: { text: 'two' } },
      token: alice,
    })
    expect((await waitForTask(g, fresh.body.id, undefined, 8000, alice)).status).toBe('succeeded')
    // the timeouts sweep reads every unfinished task, as a start does
    expect((await g.api('/api/admin/sweep', { method: 'POST' })).status).toBe(200)
    const metrics = await eventually(async () => {
      const text = (await g!.api('/metrics')).body as string
      return text.includes('collection="task"} 1') ? text : undefined
    }, 30_000)
    expect(metrics).toContain('gantry_store_quarantined_records_total{collection="job"} 1')
  }, 90_000)
})

if (!PG_URL) it.skip(`PostgreSQL damage test ${SKIP_TITLE}`, () => {})
