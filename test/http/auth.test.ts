import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signToken } from '../../core/auth/jwt.js'
import { JWT_SECRET, startGantry, type TestGantry } from '../helpers.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
function handMade(header: object, claims: object, secret = JWT_SECRET, alg = 'sha256') {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${createHmac(alg, secret).update(input).digest('base64url')}`
}
const later = () => Math.floor(Date.now() / 1000) + 600

describe('bearer tokens', () => {
  let g: TestGantry
  const invoke = (token: string | null) =>
    g.api('/api/abilities/echo/invoke', { body: { inputs: {} }, token })
  beforeAll(async () => {
    g = await startGantry({
      files: {
        'a.yaml':
          'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\n',
      },
    })
  })
  afterAll(() => g.stop())

  it('accepts a valid HS256 token', async () => {
    expect((await invoke(g.token('alice'))).status).toBe(200)
  })

  it('refuses a call without a token', async () => {
    const res = await invoke(null)
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('UNAUTHORIZED')
  })

  it('refuses an expired token', async () => {
    const token = signToken(
      { sub: 'alice', role: 'user', exp: Math.floor(Date.now() / 1000) - 120 },
      { secret: JWT_SECRET },
    )
    const res = await invoke(token)
    expect(res.status).toBe(401)
    expect(res.body.error.message).toContain('expired')
  })

  it('refuses a token signed with another secret', async () => {
    const res = await invoke(signToken({ sub: 'mallory', role: 'admin' }, { secret: 'not-the-secret' }))
    expect(res.status).toBe(401)
    expect(res.body.error.message).toContain('signature')
  })

  it('refuses alg none, HS512 and RS256 headers even with a matching HMAC', async () => {
    const claims = { sub: 'mallory', role: 'admin', exp: later() }
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`
    const hs512 = handMade({ alg: 'HS512', typ: 'JWT' }, claims, JWT_SECRET, 'sha512')
    const rs256 = handMade({ alg: 'RS256', typ: 'JWT' }, claims)
    for (const token of [none, hs512, rs256]) {
      const res = await invoke(token)
      expect(res.status).toBe(401)
      expect(res.body.error.message).toMatch(/algorithm/)
    }
  })

  it('refuses a token without exp', async () => {
    const res = await invoke(handMade({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', role: 'user' }))
    expect(res.status).toBe(401)
    expect(res.body.error.message).toContain('exp')
  })

  it('refuses a user on an admin route with 403 and lets an admin in', async () => {
    const user = await g.api('/api/admin/executors', { token: g.token('alice', 'user') })
    expect(user.status).toBe(403)
    expect(user.body.error.code).toBe('FORBIDDEN')
    const admin = await g.api('/api/admin/executors', { token: g.token('root', 'admin') })
    expect(admin.status).toBe(200)
  })

  it('checks iss and aud when configured', async () => {
    const other = await startGantry({ env: { GANTRY_JWT_ISSUER: 'gantry-test', GANTRY_JWT_AUDIENCE: 'api' } })
    try {
      const good = signToken(
        { sub: 'a', role: 'admin' },
        { secret: JWT_SECRET, issuer: 'gantry-test', audience: 'api' },
      )
      const wrongIss = signToken(
        { sub: 'a', role: 'admin' },
        { secret: JWT_SECRET, issuer: 'elsewhere', audience: 'api' },
      )
      expect((await other.api('/api/admin/executors', { token: good })).status).toBe(200)
      const res = await other.api('/api/admin/executors', { token: wrongIss })
      expect(res.status).toBe(401)
      expect(res.body.error.message).toContain('issuer')
    } finally {
      await other.stop()
    }
  })
})
