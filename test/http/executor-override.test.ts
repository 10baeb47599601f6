/**
 * `executorId` in a payload picks another executor than the ability's own.
 * Only an admin may do that: an executor may be allowed what the ability's
 * own is not (private addresses, a premium lane), so a user borrowing it
 * would reach through a public ability what it was never given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry } from '../helpers.js'

const DEFS = `
kind: Executor
id: cheap
provider: mock
---
kind: Executor
id: premium
provider: mock
config: { output: { texts: ["on the premium lane"] } }
---
kind: Ability
id: echo
name: Echo
executor: cheap
pricing: { base: 1 }
`

describe('executorId in a payload', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
    await g.api('/api/admin/wallets/mallory/grant', { body: { points: 10, reason: 'test' } })
  })
  afterAll(() => g.stop())

  const forbidden = (res: { status: number; body: any }) => {
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('FORBIDDEN')
    expect(res.body.error.message).toMatch(/only an admin/)
  }

  it("refuses a user's invoke on another executor with 403 FORBIDDEN, and charges nothing", async () => {
    const token = g.token('mallory')
    const before = (await g.api('/api/wallet', { token })).body
    forbidden(await g.api('/api/abilities/echo/invoke', { body: { executorId: 'premium' }, token }))
    // an executor that does not exist gets the same answer, so a user cannot probe for names
    forbidden(await g.api('/api/abilities/echo/invoke', { body: { executorId: 'internal-gpu' }, token }))
    expect((await g.api('/api/wallet', { token })).body).toEqual(before)
  })

  it("refuses a user's task on another executor with 403 FORBIDDEN, and stores nothing", async () => {
    const token = g.token('mallory')
    forbidden(
      await g.api('/api/ability-tasks', { body: { abilityId: 'echo', executorId: 'premium' }, token }),
    )
    expect((await g.api('/api/ability-tasks', { token })).body.items).toEqual([])
  })

  it("lets a user name the ability's own executor", async () => {
    const token = g.token('mallory')
    const res = await g.api('/api/abilities/echo/invoke', { body: { executorId: 'cheap' }, token })
    expect(res.status).toBe(200)
    expect(res.body.texts).not.toContain('on the premium lane')
  })

  it('lets an admin run an ability on another executor, by invoke or task', async () => {
    await g.api('/api/admin/wallets/admin/grant', { body: { points: 10, reason: 'test' } })
    const invoke = await g.api('/api/abilities/echo/invoke', { body: { executorId: 'premium' } })
    expect(invoke.status).toBe(200)
    expect(invoke.body.texts).toEqual(['on the premium lane'])
    const task = await g.api('/api/ability-tasks', { body: { abilityId: 'echo', executorId: 'premium' } })
    expect(task.status).toBe(202)
    expect(task.body.executorId).toBe('premium')
  })
})
