/** Loading plugin modules: each module named in GANTRY_PLUGINS must bring a provider or a hook. */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadProviders } from '../../core/run/providers.js'
import { FIXTURE_PLUGINS, ROOT, startGantry } from '../helpers.js'

const AUDIT = join(ROOT, 'plugins/example-audit/index.ts')
const NOTHING = join(FIXTURE_PLUGINS, 'exports-nothing.ts')

describe('plugin loading', () => {
  it('refuses a module that exports no provider and no hooks, naming it, even after a module with hooks', async () => {
    const err = await loadProviders([AUDIT, NOTHING]).catch((e) => e)
    expect(err).toMatchObject({ code: 'PLUGIN_LOAD_FAILED' })
    expect(err.message).toContain(NOTHING)
    expect(err.message).toMatch(/exports no provider and no hooks/)
  })

  it('fails the start with that error', async () => {
    await expect(startGantry({ env: { GANTRY_PLUGINS: [AUDIT, NOTHING].join(',') } })).rejects.toThrow(
      /exports-nothing\.ts.*exports no provider and no hooks/,
    )
  })

  it('loads a module with hooks only, and one with a provider only', async () => {
    const shout = join(ROOT, 'plugins/example-shout/index.ts')
    const catalog = await loadProviders([AUDIT, shout])
    expect(catalog.get('shout')).toBeDefined()
    expect(catalog.hooks.map((h) => h.plugin)).toContain('audit')
  })
})
