/**
 * Every JSON body goes through a payload schema: a field a route does not know
 * is 400 VALIDATION_FAILED naming it (a typo such as `param` for `params` would
 * otherwise start a job with no params), and the documented fields still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry } from '../helpers.js'

const DEFS = `
kind: Executor
id: m
provider: mock
maxConcurrency: 4
---
kind: Ability
id: echo
name: Echo
executor: m
pricing: { base: 2, add: [{ when: { big: true }, points: 3 }] }
---
kind: Workflow
id: flow
name: One step
input: { type: object, properties: { text: { type: string } } }
steps:
  - { id: one, ability: echo, with: { text: "\${{ params.text }}" } }
`

/** A 400 VALIDATION_FAILED whose message and details name the field. */
function refusedNaming(res: { status: number; body: any }, field: string) {
  expect(res.status).toBe(400)
  expect(res.body.error.code).toBe('VALIDATION_FAILED')
  expect(res.body.error.message).toContain(`unknown field '${field}'`)
  expect(res.body.error.details).toContainEqual({ path: '/', message: `unknown field '${field}'` })
}

describe('request bodies are checked against their schemas', () => {
  let g: TestGantry
  beforeAll(async () => {
    // the callback goes to loopback: no DNS, and nothing listens there (its delivery is not what is tested)
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env: { GANTRY_ALLOW_PRIVATE_CALLBACKS: 'true' } })
  })
  afterAll(async () => {
    await g?.stop()
  })

  describe('POST /api/workflows/:id/jobs', () => {
    const jobsOf = async (token: string) => (await g.api('/api/workflow-jobs', { token })).body.items

    it('refuses an unknown field, starting no job', async () => {
      const token = g.token('flow-typo')
      refusedNaming(
        await g.api('/api/workflows/flow/jobs', { body: { param: { text: 'hi' } }, token }),
        'param',
      )
      refusedNaming(
        await g.api('/api/workflows/flow/jobs', { body: { params: {}, priority: 'accelerated' }, token }),
        'priority',
      )
      expect(await jobsOf(token)).toEqual([])
    })

    it('refuses params that are not an object and a projectId past 256 characters', async () => {
      const token = g.token('flow-shapes')
      const notObject = await g.api('/api/workflows/flow/jobs', { body: { params: 'hi' }, token })
      expect(notObject.status).toBe(400)
      expect(notObject.body.error.details).toContainEqual({ path: '/params', message: 'must be object' })
      const long = await g.api('/api/workflows/flow/jobs', {
        body: { projectId: 'p'.repeat(257), params: {} },
        token,
      })
      expect(long.status).toBe(400)
      expect(long.body.error.details[0].path).toBe('/projectId')
      expect(await jobsOf(token)).toEqual([])
    })

    it('starts a job with the documented fields', async () => {
      const token = g.token('flow-ok')
      const res = await g.api('/api/workflows/flow/jobs', {
        body: {
          projectId: 'p'.repeat(256),
          params: { text: 'hi' },
          callbackUrl: 'http://127.0.0.1:9/hook',
          callbackHeaders: { 'x-a': 'b' },
        },
        token,
      })
      expect(res.status).toBe(202)
      expect(res.body.job.projectId).toBe('p'.repeat(256))
      // params may be left out, as before
      expect((await g.api('/api/workflows/flow/jobs', { body: {}, token })).status).toBe(202)
    })
  })

  describe('POST /api/credits/estimate', () => {
    it('refuses an unknown field', async () => {
      refusedNaming(
        await g.api('/api/credits/estimate', { body: { abilityId: 'echo', input: { big: true } } }),
        'input',
      )
    })

    it('needs an abilityId and inputs that are an object', async () => {
      const missing = await g.api('/api/credits/estimate', { body: { inputs: {} } })
      expect(missing.status).toBe(400)
      expect(missing.body.error.code).toBe('VALIDATION_FAILED')
      const notObject = await g.api('/api/credits/estimate', { body: { abilityId: 'echo', inputs: [] } })
      expect(notObject.status).toBe(400)
      expect(notObject.body.error.details).toContainEqual({ path: '/inputs', message: 'must be object' })
    })

    it('estimates with the documented fields', async () => {
      expect((await g.api('/api/credits/estimate', { body: { abilityId: 'echo' } })).body.points).toBe(2)
      const big = await g.api('/api/credits/estimate', { body: { abilityId: 'echo', inputs: { big: true } } })
      expect(big).toMatchObject({ status: 200, body: { abilityId: 'echo', points: 5 } })
    })
  })

  describe('POST /api/admin/wallets/:userId/grant', () => {
    const balanceOf = async (user: string) =>
      (await g.api('/api/wallet', { token: g.token(user) })).body.balance

    it('refuses an unknown field, granting nothing', async () => {
      refusedNaming(
        await g.api('/api/admin/wallets/gus/grant', { body: { points: 5, reason: 'r', note: 'x' } }),
        'note',
      )
      expect(await balanceOf('gus')).toBe(0)
    })

    it('refuses points that are not a number and a reason that is not a string', async () => {
      const points = await g.api('/api/admin/wallets/gus/grant', { body: { points: '5', reason: 'r' } })
      expect(points.status).toBe(400)
      expect(points.body.error.details).toContainEqual({ path: '/points', message: 'must be number' })
      const reason = await g.api('/api/admin/wallets/gus/grant', { body: { points: 5, reason: 7 } })
      expect(reason.status).toBe(400)
      expect(reason.body.error.details).toContainEqual({ path: '/reason', message: 'must be string' })
      expect(await balanceOf('gus')).toBe(0)
    })

    it('grants with the documented fields', async () => {
      const res = await g.api('/api/admin/wallets/gus/grant', { body: { points: 5, reason: 'top-up' } })
      expect(res.status).toBe(201)
      expect(await balanceOf('gus')).toBe(5)
    })
  })
})
