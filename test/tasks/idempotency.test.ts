import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeEachStore } from '../each-store.js'
import { startGantry, type TestGantry } from '../helpers.js'

const DEFS =
  'kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: 4\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\n'

describeEachStore('Idempotency-Key on task submits', (env) => {
  let g: TestGantry
  const submit = (key: string, body: object, token?: string) =>
    g.api('/api/ability-tasks', { body, headers: { 'idempotency-key': key }, ...(token ? { token } : {}) })
  const count = async (token: string) =>
    (await g.api('/api/ability-tasks?limit=200', { token })).body.items.length
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS }, env })
  })
  afterAll(() => g.stop())

  it('replays the first answer for the same key and body, with the same task', async () => {
    const dave = g.token('dave')
    const first = await submit('order-1', { abilityId: 'echo', inputs: { a: 1, b: 2 } }, dave)
    const again = await submit('order-1', { inputs: { b: 2, a: 1 }, abilityId: 'echo' }, dave)
    expect(first.status).toBe(202)
    expect(again.status).toBe(202)
    expect(again.body.id).toBe(first.body.id)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await count(dave)).toBe(1)
  })

  it('refuses the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const erin = g.token('erin')
    await submit('k', { abilityId: 'echo', inputs: { a: 1 } }, erin)
    const res = await submit('k', { abilityId: 'echo', inputs: { a: 2 } }, erin)
    expect(res.status).toBe(422)
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED')
  })

  it('scopes keys per user', async () => {
    const a = await submit('shared', { abilityId: 'echo' }, g.token('frank'))
    const b = await submit('shared', { abilityId: 'echo' }, g.token('grace'))
    expect(a.body.id).not.toBe(b.body.id)
  })

  it('refuses a key longer than 255 characters', async () => {
    const res = await submit('x'.repeat(256), { abilityId: 'echo' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
  })

  it('concurrent duplicates create exactly one task; the others get 409 IDEMPOTENCY_IN_FLIGHT or the replay', async () => {
    const heidi = g.token('heidi')
    const results = await Promise.all(
      Array.from({ length: 20 }, () => submit('burst', { abilityId: 'echo' }, heidi)),
    )
    const ids = new Set(results.filter((r) => r.status === 202).map((r) => r.body.id))
    expect(ids.size).toBe(1)
    for (const r of results) {
      if (r.status !== 202) expect(r.body.error.code).toBe('IDEMPOTENCY_IN_FLIGHT')
    }
    expect(await count(heidi)).toBe(1)
  })

  it('still replays after a restart', async () => {
    const ivan = g.token('ivan')
    const first = await submit('after-restart', { abilityId: 'echo', inputs: { z: 1 } }, ivan)
    const root = g.root
    await g.stop({ keep: true })
    g = await startGantry({ root, env })
    const again = await submit('after-restart', { abilityId: 'echo', inputs: { z: 1 } }, ivan)
    expect(again.status).toBe(202)
    expect(again.body.id).toBe(first.body.id)
    expect((await submit('after-restart', { abilityId: 'echo', inputs: { z: 2 } }, ivan)).status).toBe(422)
  })
})
