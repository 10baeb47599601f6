import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'

// estimate 5, hold 5 + reserve 20; the mock reports whatever usage the inputs give it
const DEFS = `
kind: Executor
id: m
provider: mock
---
kind: Ability
id: metered
name: Metered by seconds
executor: m
pricing:
  base: 5
  usage: { perSecond: 2, reserve: 20 }
`

describe('usage figures a provider reports', () => {
  let g: TestGantry
  const wallet = async (user: string) => (await g.api('/api/wallet', { token: g.token(user) })).body
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
  })
  afterAll(() => g.stop())

  for (const [name, usage] of [
    ['a string', { seconds: 'abc' }],
    ['a negative number', { seconds: -10 }],
    ['a figure that prices past any wallet', { seconds: 1e300 }],
    ['not an object', 'lots'],
  ] as const) {
    it(`${name} settles the task at its estimate, and the log says why`, async () => {
      const user = `u-${name.replace(/\W/g, '')}`
      await g.api(`/api/admin/wallets/${user}/grant`, { body: { points: 100, reason: 'top-up' } })
      const token = g.token(user)
      const res = await g.api('/api/ability-tasks', {
        body: { abilityId: 'metered', inputs: { output: { usage } } },
        token,
      })
      const done = await waitForTask(g, res.body.id, undefined, 30_000, token)
      expect(done.status).toBe('succeeded')
      expect(done.resultPayload.cost).toEqual({ points: 5 })
      expect(await wallet(user)).toEqual({ userId: user, balance: 95, frozen: 0, available: 95 })
      const logs = (await g.api('/api/admin/abilities/metered/logs?limit=1')).body.items
      expect(logs[0]).toMatchObject({ taskId: res.body.id, cost: { points: 5 } })
      expect(logs[0].usageRefused).toMatch(/usage/)
    })
  }

  it('the sync invoke settles a bad figure at the estimate too; a good one is priced', async () => {
    await g.api('/api/admin/wallets/sam/grant', { body: { points: 100, reason: 'top-up' } })
    const token = g.token('sam')
    const bad = await g.api('/api/abilities/metered/invoke', {
      body: { inputs: { output: { usage: { seconds: 'abc' } } } },
      token,
    })
    expect(bad.body.cost).toEqual({ points: 5 })
    const good = await g.api('/api/abilities/metered/invoke', {
      body: { inputs: { output: { usage: { seconds: 3 } } } },
      token,
    })
    expect(good.body.cost).toEqual({ points: 11 })
    expect(await wallet('sam')).toEqual({ userId: 'sam', balance: 84, frozen: 0, available: 84 })
  })
})
