import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry, waitForTask } from '../helpers.js'

const DEFS = `
kind: Executor
id: m
provider: mock
maxConcurrency: 2
---
kind: Ability
id: render
name: Render
executor: m
input:
  type: object
  properties:
    resolution: { type: string, enum: [sd, hd, 4k], default: sd }
    priority: { type: string, enum: [standard, accelerated], default: standard }
pricing:
  base: 18
  add:
    - { when: { resolution: hd }, points: 6 }
    - { when: { resolution: 4k }, points: 14 }
    - { when: { priority: accelerated }, points: 12 }
---
kind: Ability
id: chat
name: Chat billed by tokens
executor: m
pricing:
  base: 1
  usage: { perOutputToken: 0.1, reserve: 10 }
config: { output: { usage: { outputTokens: 50 } } }
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

describe('credits', () => {
  let g: TestGantry
  const wallet = async (user: string) => (await g.api('/api/wallet', { token: g.token(user) })).body
  const grant = (user: string, points: number) =>
    g.api(`/api/admin/wallets/${user}/grant`, { body: { points, reason: 'top-up' } })
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
  })
  afterAll(() => g.stop())

  it('estimates base plus the rules that match, with a breakdown', async () => {
    const res = await g.api('/api/credits/estimate', {
      body: { abilityId: 'render', inputs: { resolution: '4k', priority: 'accelerated' } },
      token: g.token('any'),
    })
    expect(res.body).toMatchObject({ points: 44 })
    expect(res.body.breakdown.map((l: { points: number }) => l.points)).toEqual([18, 14, 12])
    expect((await g.api('/api/credits/estimate', { body: { abilityId: 'render' } })).body.points).toBe(18)
    expect((await g.api('/api/credits/estimate', { body: { abilityId: 'nope' } })).status).toBe(404)
  })

  it('refuses a priced call the wallet cannot cover with 402, holding and creating nothing', async () => {
    const token = g.token('poor')
    const sync = await g.api('/api/abilities/render/invoke', { body: {}, token })
    expect(sync.status).toBe(402)
    expect(sync.body.error).toMatchObject({
      code: 'INSUFFICIENT_CREDITS',
      details: { required: 18, available: 0 },
    })
    const task = await g.api('/api/ability-tasks', { body: { abilityId: 'render' }, token })
    expect(task.status).toBe(402)
    expect((await g.api('/api/ability-tasks', { token })).body.items).toEqual([])
    expect(await wallet('poor')).toEqual({ userId: 'poor', balance: 0, frozen: 0, available: 0 })
  })

  it('grants are admin-only and need a reason', async () => {
    expect(
      (await g.api('/api/admin/wallets/x/grant', { body: { points: 5, reason: 'r' }, token: g.token('x') }))
        .status,
    ).toBe(403)
    expect((await g.api('/api/admin/wallets/x/grant', { body: { points: 5 } })).status).toBe(400)
    expect((await g.api('/api/admin/wallets/x/grant', { body: { points: -5, reason: 'r' } })).status).toBe(
      400,
    )
    const res = await grant('x', 5)
    expect(res.status).toBe(201)
    expect(res.body.wallet).toEqual({ userId: 'x', balance: 5, frozen: 0, available: 5 })
  })

  it('holds the estimate while a task runs, commits it on success, and keeps a ledger', async () => {
    await grant('amy', 100)
    const token = g.token('amy')
    const res = await g.api('/api/ability-tasks', {
      body: { abilityId: 'render', inputs: { resolution: 'hd', delayMs: 300 } },
      token,
    })
    expect(res.status).toBe(202)
    expect(await wallet('amy')).toEqual({ userId: 'amy', balance: 100, frozen: 24, available: 76 })
    const done = await waitForTask(g, res.body.id, undefined, 8000, token)
    expect(done.resultPayload.cost).toEqual({ points: 24 })
    expect(await wallet('amy')).toEqual({ userId: 'amy', balance: 76, frozen: 0, available: 76 })
    const ledger = (await g.api('/api/wallet/ledger', { token })).body.items
    expect(ledger.map((e: { kind: string; points: number }) => [e.kind, e.points])).toEqual([
      ['commit', 24],
      ['hold', 24],
      ['grant', 100],
    ])
  })

  it('releases the hold when a task fails or is canceled', async () => {
    await grant('ben', 50)
    const token = g.token('ben')
    const failing = await g.api('/api/ability-tasks', {
      body: { abilityId: 'render', inputs: { fail: 'boom' } },
      token,
    })
    await waitForTask(g, failing.body.id, undefined, 8000, token)
    expect(await wallet('ben')).toEqual({ userId: 'ben', balance: 50, frozen: 0, available: 50 })
    const slow = await g.api('/api/ability-tasks', {
      body: { abilityId: 'render', inputs: { delayMs: 3000 } },
      token,
    })
    expect((await wallet('ben')).frozen).toBe(18)
    await g.api(`/api/ability-tasks/${slow.body.id}/cancel`, { method: 'POST', token })
    expect(await wallet('ben')).toEqual({ userId: 'ben', balance: 50, frozen: 0, available: 50 })
  })

  it('the sync invoke holds, then commits the price', async () => {
    await grant('cat', 30)
    const res = await g.api('/api/abilities/render/invoke', {
      body: { inputs: { resolution: 'hd' } },
      token: g.token('cat'),
    })
    expect(res.status).toBe(200)
    expect(res.body.cost).toEqual({ points: 24 })
    expect(await wallet('cat')).toEqual({ userId: 'cat', balance: 6, frozen: 0, available: 6 })
  })

  it('prices usage reported by the provider, capped at the hold unless the ability allows more', async () => {
    await grant('dan', 100)
    const token = g.token('dan')
    // 1 + 50 tokens x 0.1 = 6, within the hold of 1 + reserve 10
    const chat = await g.api('/api/abilities/chat/invoke', { body: {}, token })
    expect(chat.body.cost).toEqual({ points: 6 })
    // 5 + 30 s x 2 = 65, beyond the hold of 5, allowed
    const training = await g.api('/api/abilities/training/invoke', { body: {}, token })
    expect(training.body.cost).toEqual({ points: 65 })
    expect(await wallet('dan')).toEqual({ userId: 'dan', balance: 29, frozen: 0, available: 29 })
  })

  it('never overdraws: of many concurrent submits, exactly as many are accepted as the balance covers', async () => {
    await grant('eve', 100)
    const token = g.token('eve')
    const results = await Promise.all(
      Array.from({ length: 20 }, () => g.api('/api/ability-tasks', { body: { abilityId: 'render' }, token })),
    )
    const accepted = results.filter((r) => r.status === 202)
    expect(accepted).toHaveLength(5)
    expect(results.filter((r) => r.status === 402)).toHaveLength(15)
    for (const t of accepted) await waitForTask(g, t.body.id, undefined, 8000, token)
    expect(await wallet('eve')).toEqual({ userId: 'eve', balance: 10, frozen: 0, available: 10 })
  })
})
