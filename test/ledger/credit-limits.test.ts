import { afterAll, beforeAll, expect, it } from 'vitest'
import { MAX_BALANCE, MAX_GRANT } from '../../core/ledger/limits.js'
import { describeEachStore } from '../each-store.js'
import { startGantry, type TestGantry } from '../helpers.js'

// rules that each fit a double but add up past any wallet
const DEFS = `
kind: Executor
id: m
provider: mock
---
kind: Ability
id: priceless
name: Priced past any wallet
executor: m
pricing:
  base: 1.7e308
  add:
    - { when: { big: true }, points: 1.7e308 }
`

describeEachStore('how large credits may get', (env) => {
  let g: TestGantry
  const grant = (user: string, points: unknown) =>
    g.api(`/api/admin/wallets/${user}/grant`, { body: { points, reason: 'top-up' } })
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env })
  })
  afterAll(() => g.stop())

  it('refuses a grant that is not a number of cents within MAX_GRANT with 400', async () => {
    for (const points of [1.7e308, MAX_GRANT + 1, 1.005, 0, -1, '5']) {
      const res = await grant('gus', points)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('VALIDATION_FAILED')
    }
    expect((await grant('gus', 2.5)).status).toBe(201)
  })

  it('refuses a grant that would take a balance past MAX_BALANCE with 409, even two at once', async () => {
    for (let n = 0; n < MAX_BALANCE / MAX_GRANT - 1; n++)
      expect((await grant('hal', MAX_GRANT)).status).toBe(201)
    const both = await Promise.all([grant('hal', MAX_GRANT), grant('hal', MAX_GRANT)])
    expect(both.map((r) => r.status).sort()).toEqual([201, 409])
    expect(both.find((r) => r.status === 409)!.body.error.code).toBe('BALANCE_LIMIT')
    const wallet = (await g.api('/api/wallet', { token: g.token('hal') })).body
    expect(wallet).toEqual({ userId: 'hal', balance: MAX_BALANCE, frozen: 0, available: MAX_BALANCE })
    expect(await g.gantry.store.ledger.verify()).toEqual([])
  })

  it('refuses a price past any wallet with 400 PRICE_OUT_OF_RANGE, holding nothing', async () => {
    const token = g.token('ivy')
    const estimate = await g.api('/api/credits/estimate', {
      body: { abilityId: 'priceless', inputs: { big: true } },
      token,
    })
    expect(estimate.status).toBe(400)
    expect(estimate.body.error.code).toBe('PRICE_OUT_OF_RANGE')
    const task = await g.api('/api/ability-tasks', {
      body: { abilityId: 'priceless', inputs: { big: true } },
      token,
    })
    expect(task.status).toBe(400)
    expect(task.body.error.code).toBe('PRICE_OUT_OF_RANGE')
    expect((await g.api('/api/wallet', { token })).body).toMatchObject({ frozen: 0 })
  })
})
