import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyToken } from '../../core/auth/jwt.js'
import { ROOT, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { dropSchema, newSchema, PG_URL as url } from '../pg-schema.js'

describe.skipIf(!url)('a Gantry on PostgreSQL (GANTRY_TEST_PG)', () => {
  const schema = newSchema('gantry_test')
  const files = {
    'a.yaml':
      'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\npricing: { base: 4 }\n',
  }
  const env = { GANTRY_STORE: url ?? '', GANTRY_PG_SCHEMA: schema }
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files, env })
  })
  afterAll(async () => {
    await g?.stop()
    await dropSchema(schema)
  })

  it('runs priced tasks, keeps their ledger, and finds them again after a restart', async () => {
    await g.api('/api/admin/wallets/pat/grant', { body: { points: 10, reason: 'test' } })
    const token = g.token('pat')
    const first = await g.api('/api/ability-tasks', { body: { abilityId: 'echo', inputs: { n: 1 } }, token })
    expect(first.status).toBe(202)
    await waitForTask(g, first.body.id, undefined, 8000, token)
    const refused = await Promise.all(
      [1, 2].map(() => g.api('/api/ability-tasks', { body: { abilityId: 'echo' }, token })),
    )
    expect(refused.map((r) => r.status).sort()).toEqual([202, 402])
    const root = g.root
    await g.stop({ keep: true })
    g = await startGantry({ root, env })
    const again = await g.api(`/api/ability-tasks/${first.body.id}`, { token })
    expect(again.body).toMatchObject({ status: 'succeeded', resultPayload: { cost: { points: 4 } } })
    // the second task may still have been queued at the stop: it runs after the restart
    const second = refused.find((r) => r.status === 202)!
    await waitForTask(g, second.body.id, undefined, 8000, token)
    const wallet = (await g.api('/api/wallet', { token })).body
    expect(wallet.frozen).toBe(0)
    expect(wallet.balance).toBe(2)
  })

  it("nodes without configured secrets share the first node's: a token from any node, or from the CLI, holds on all", async () => {
    // each node has a data dir of its own; only the database is shared
    const bare = { ...env, GANTRY_JWT_SECRET: '', GANTRY_WEBHOOK_SECRET: '' }
    const a = await startGantry({ files, env: bare })
    const b = await startGantry({ files, env: bare })
    try {
      const fromA = a.gantry.devAdminToken!
      const fromB = b.gantry.devAdminToken!
      for (const node of [a, b])
        for (const token of [fromA, fromB])
          expect((await node.api('/api/admin/executors', { token })).status).toBe(200)
      const cli = await promisify(execFile)(
        process.execPath,
        [join(ROOT, 'core/cli/gantry.js'), 'token', '--sub', 'dana'],
        { env: { ...process.env, ...bare, GANTRY_DATA_DIR: join(a.root, 'elsewhere') } },
      )
      const token = cli.stdout.trim()
      expect((await b.api('/api/wallet', { token })).body.userId).toBe('dana')
      expect(() => verifyToken(token, { secret: 'not it' })).toThrow()
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
