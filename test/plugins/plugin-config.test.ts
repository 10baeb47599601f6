/**
 * Gantry's own config keys (`async`, `mediaHosts`) are Gantry's to check: a
 * provider whose configSchema refuses unknown keys still loads with them set.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startGantry, type TestGantry } from '../helpers.js'

const executor = (id: string, config: string) =>
  `kind: Executor\nid: ${id}\nprovider: shout\nconfig: ${config}\n`
const ability = (id: string, exec: string) => `kind: Ability\nid: ${id}\nexecutor: ${exec}\n`

describe("Gantry's own keys in a provider's config", () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/example-shout/index.ts') },
      files: {
        // example-shout's configSchema says additionalProperties: false
        'kept.yaml': `${executor('kept', "{ suffix: '?', mediaHosts: [comfy.lan], async: false }")}---\n${ability('shout', 'kept')}`,
        'typo.yaml': executor('typo', "{ sufix: '?' }"),
        'bad-hosts.yaml': executor('bad-hosts', '{ mediaHosts: comfy.lan }'),
      },
    })
  })
  afterAll(() => g.stop())

  it('loads an executor with mediaHosts and async set, and runs its calls', async () => {
    const errors = (await g.api('/api/admin/definitions/errors')).body.items
    expect(errors.filter((e: { file: string }) => e.file.endsWith('kept.yaml'))).toEqual([])
    const res = await g.api('/api/abilities/shout/invoke', { body: { inputs: { text: 'hi' } } })
    expect(res.status).toBe(200)
    expect(res.body.texts).toEqual(['HI?'])
  })

  it("still refuses a key neither Gantry nor the provider knows, and checks Gantry's keys itself", async () => {
    const errors = (await g.api('/api/admin/definitions/errors')).body.items as {
      file: string
      message: string
    }[]
    const of = (name: string) => errors.filter((e) => e.file.endsWith(name)).map((e) => e.message)
    expect(of('typo.yaml').join('\n')).toMatch(/sufix/)
    expect(of('bad-hosts.yaml').join('\n')).toMatch(/mediaHosts|array/)
  })
})
