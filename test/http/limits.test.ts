import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry } from '../helpers.js'

describe('request limits', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({
      env: { GANTRY_BODY_LIMIT: '1024' },
      files: {
        'a.yaml':
          'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\n',
      },
    })
  })
  afterAll(() => g.stop())

  it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: { inputs: { text: 'x'.repeat(2000) } } })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('accepts a body under the limit', async () => {
    const res = await g.api('/api/abilities/echo/invoke', { body: { inputs: { text: 'x'.repeat(100) } } })
    expect(res.status).toBe(200)
  })

  it('answers unknown routes with a NOT_FOUND envelope', async () => {
    const res = await g.api('/api/nothing-here')
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('NOT_FOUND')
  })
})
