import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startGantry, type TestGantry } from '../helpers.js'

describe('a third-party plugin from GANTRY_PLUGINS', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/example-shout/index.ts') },
      files: {
        'shout.yaml': `
kind: Executor
id: loud
provider: shout
config: { suffix: "!!!" }
---
kind: Ability
id: shout
name: Shout
executor: loud
input: { type: object, required: [text], properties: { text: { type: string } } }
`,
      },
    })
  })
  afterAll(() => g.stop())

  it('serves abilities on the plugin provider', async () => {
    const res = await g.api('/api/abilities/shout/invoke', { body: { inputs: { text: 'hello' } } })
    expect(res.status).toBe(200)
    expect(res.body.texts).toEqual(['HELLO!!!'])
    expect(res.body.raw).toEqual({ length: 5 })
  })

  it("checks executor config against the plugin's configSchema", async () => {
    await g.writeDefinition(
      'bad.yaml',
      'kind: Executor\nid: loud2\nprovider: shout\nconfig: { volume: 11 }\n',
    )
    const errors = await new Promise<any>((resolve) => {
      const poll = async () => {
        const res = await g.api('/api/admin/definitions/errors')
        if (res.body.items.length) resolve(res.body.items)
        else setTimeout(poll, 100)
      }
      void poll()
    })
    expect(errors[0].location).toMatch(/bad\.yaml:4:\d+$/)
    expect(errors[0].message).toContain('volume')
  })
})
