import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachStore } from '../each-store.js'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'

// a hold of 5, and usage that prices each call at 5 + 30 s x 2 = 65, which the ability allows
const DEFS = `
kind: Executor
id: m
provider: mock
maxConcurrency: 16
---
kind: Ability
id: training
name: Training billed by seconds, over the estimate allowed
executor: m
pricing:
  base: 5
  usage: { perSecond: 2 }
  allowOverEstimate: true
config: { output: { usage: { seconds: 30 } } }
`

describeEachStore('usage beyond the hold', (env) => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env })
  })
  afterAll(() => g.stop())

  it('16 tasks ending at once never take a 100-point wallet below zero', async () => {
    await g.api('/api/admin/wallets/uma/grant', { body: { points: 100, reason: 'top-up' } })
    const token = g.token('uma')
    const submits = await Promise.all(
      Array.from({ length: 16 }, () =>
        g.api('/api/ability-tasks', { body: { abilityId: 'training', inputs: { delayMs: 1500 } }, token }),
      ),
    )
    expect(submits.map((s) => s.status)).toEqual(Array(16).fill(202))
    const ended = await Promise.all(submits.map((s) => waitForTask(g, s.body.id, undefined, 60_000, token)))
    const wallet = (await g.api('/api/wallet', { token })).body
    expect(wallet.frozen).toBe(0)
    expect(wallet.balance).toBeGreaterThanOrEqual(0)
    // every task says what it cost, and together they cost what the wallet lost
    const costs = ended.map((t) => t.resultPayload.cost.points)
    expect(costs.reduce((a, b) => a + b, 0)).toBeCloseTo(100 - wallet.balance)
    for (const cost of costs) expect(cost).toBeGreaterThanOrEqual(5)
    expect(await g.gantry.store.ledger.verify()).toEqual([])
  })

  it('16 sync calls at once never take a 100-point wallet below zero', async () => {
    await g.api('/api/admin/wallets/val/grant', { body: { points: 100, reason: 'top-up' } })
    const token = g.token('val')
    const calls = await Promise.all(
      Array.from({ length: 16 }, () =>
        g.api('/api/abilities/training/invoke', { body: { inputs: { delayMs: 500 } }, token }),
      ),
    )
    const paid = calls.filter((c) => c.status === 200).map((c) => c.body.cost.points)
    const wallet = (await g.api('/api/wallet', { token })).body
    expect(wallet.frozen).toBe(0)
    expect(wallet.balance).toBeGreaterThanOrEqual(0)
    expect(paid.reduce((a, b) => a + b, 0)).toBeCloseTo(100 - wallet.balance)
    expect(await g.gantry.store.ledger.verify()).toEqual([])
  })
})
