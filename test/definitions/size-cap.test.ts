/**
 * Parsing YAML is synchronous: a 25 MB definitions file held the server for
 * seconds on every reload. A file over the cap is refused unread, with its
 * path and a clear message; the last good version stays in force.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDefinitionLoader, type DefinitionLoader } from '../../core/definitions/loader.js'
import { validateDirs } from '../../core/definitions/validate.js'
import { eventually, ROOT, startGantry, type TestGantry } from '../helpers.js'
import { EXECUTOR, providers, tempDefinitionsDir, waitFor } from './helpers.js'

const ABILITY = ['kind: Ability', 'id: echo', 'name: Echo', 'executor: local-mock']
/** Valid YAML, `bytes` long or a little more: the ability padded with a long comment. */
const padded = (lines: string[], bytes: number) => `${lines.join('\n')}\n# ${'x'.repeat(bytes)}\n`

let tmp: Awaited<ReturnType<typeof tempDefinitionsDir>>
let loader: DefinitionLoader | undefined
beforeEach(async () => {
  tmp = await tempDefinitionsDir()
})
afterEach(async () => {
  await loader?.close()
  loader = undefined
  await tmp.cleanup()
})

describe('the definitions file size cap', () => {
  it('hot reload refuses a file over the cap, keeps its last good version, and takes it back once small', async () => {
    await tmp.write('executor.yaml', EXECUTOR)
    const file = await tmp.write('echo.yaml', ABILITY)
    const logs: { level: string; fields?: Record<string, unknown> }[] = []
    loader = createDefinitionLoader({
      dirs: [tmp.dir],
      providers,
      env: {},
      maxFileBytes: 4096,
      log: (level, _message, fields) => logs.push({ level, fields }),
    })
    expect((await loader.load()).abilities.get('echo')?.name).toBe('Echo')
    loader.watch()

    await tmp.write('echo.yaml', padded([...ABILITY.slice(0, 2), 'name: Big', ...ABILITY.slice(3)], 10_000))
    const refused = await waitFor(() => loader!.current().errors.length > 0 && loader!.current())
    expect(refused.abilities.get('echo')?.name).toBe('Echo')
    expect(refused.errors).toHaveLength(1)
    expect(refused.errors[0]).toMatchObject({ file, line: 1, col: 1 })
    expect(refused.errors[0].message).toMatch(
      /^file is 100\d\d bytes, more than the 4096 a definitions file may have \(GANTRY_MAX_DEFINITION_BYTES\); not loaded$/,
    )
    const warning = logs.find((l) => l.level === 'warn')
    expect(warning?.fields?.file).toBe(file)

    await tmp.write('echo.yaml', [...ABILITY.slice(0, 2), 'name: Small again', ...ABILITY.slice(3)])
    const fixed = await waitFor(() => loader!.current().errors.length === 0 && loader!.current())
    expect(fixed.abilities.get('echo')?.name).toBe('Small again')
  })

  it('a file over the cap at start loads nothing and says why; the default cap is 1 MiB', async () => {
    await tmp.write('executor.yaml', EXECUTOR)
    await tmp.write('echo.yaml', padded(ABILITY, 1024 * 1024))
    const errors = await validateDirs([tmp.dir], providers, {})
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^file is 1048\d{3} bytes, more than the 1048576 a definitions/),
    ])
    // just under the cap loads
    await tmp.write('echo.yaml', padded(ABILITY, 1024 * 1024 - 200))
    expect(await validateDirs([tmp.dir], providers, {})).toEqual([])
  })

  it('gantry validate reports it, with GANTRY_MAX_DEFINITION_BYTES as the cap', async () => {
    await tmp.write('executor.yaml', EXECUTOR.join('\n'))
    const file = await tmp.write('echo.yaml', padded(ABILITY, 2000))
    const res = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'core/cli/gantry.js'), 'validate', tmp.dir], {
        env: { ...process.env, GANTRY_MAX_DEFINITION_BYTES: '1000' },
        cwd: ROOT,
      })
      let stdout = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.on('exit', (code) => resolve({ code, stdout }))
    })
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(new RegExp(`^${file}:1:1 file is 20\\d\\d bytes, more than the 1000 `))
  })
})

describe('the size cap over HTTP', () => {
  let g: TestGantry | undefined
  afterEach(async () => {
    await g?.stop()
    g = undefined
  })

  it('GET /api/admin/definitions/errors lists the refused file; the ability in force is still served', async () => {
    const ability = (text: string) =>
      `kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: greet\nname: Greet\nexecutor: m\nconfig: { output: { texts: ["${text}"] } }\n`
    g = await startGantry({
      files: { 'greet.yaml': ability('hello') },
      env: { GANTRY_MAX_DEFINITION_BYTES: '2048' },
    })
    await g.writeDefinition('greet.yaml', `${ability('big')}# ${'x'.repeat(5000)}\n`)
    const items = await eventually(async () => {
      const list = (await g!.api('/api/admin/definitions/errors')).body.items
      return list.length ? list : undefined
    })
    expect(items).toEqual([
      expect.objectContaining({
        file: join(g.abilitiesDir, 'greet.yaml'),
        location: `${join(g.abilitiesDir, 'greet.yaml')}:1:1`,
        message: expect.stringMatching(/^file is 5\d\d\d bytes, more than the 2048 /),
      }),
    ])
    expect((await g.api('/api/abilities/greet/invoke', { body: {} })).body.texts).toEqual(['hello'])
  })
})
