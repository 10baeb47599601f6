import { rm } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDefinitionLoader, type DefinitionLoader } from '../../core/definitions/loader.js'
import type { DefinitionSet } from '../../core/definitions/types.js'
import { EXECUTOR, providers, tempDefinitionsDir, WAIT_MS, waitFor } from './helpers.js'

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

/** Starts a watching loader on `dirs`, recording reloads and log lines. */
async function startWatching(dirs = [tmp.dir]) {
  const reloads: { set: DefinitionSet; changed: string[] }[] = []
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = []
  loader = createDefinitionLoader({
    dirs,
    providers,
    env: {},
    onReload: (set, changed) => reloads.push({ set, changed }),
    log: (level, message, fields) => logs.push({ level, message, fields }),
  })
  const first = await loader.load()
  loader.watch()
  return { loader, first, reloads, logs }
}

const ability = (name: string) => ['kind: Ability', 'id: echo', `name: ${name}`, 'executor: local-mock']

describe('hot reload', () => {
  it('adds, changes, refuses, restores and removes a file without a restart', async () => {
    await tmp.write('executors.yaml', EXECUTOR)
    const { loader, first, reloads, logs } = await startWatching()
    expect(first.abilities.size).toBe(0)

    // added: served within 2 s
    const file = await tmp.write('abilities/echo.yaml', ability('Echo'))
    const added = await waitFor(() => loader.current().abilities.get('echo'), WAIT_MS, 'the new ability')
    expect(added.name).toBe('Echo')
    expect(reloads.at(-1)?.changed).toEqual([file])

    // changed
    await tmp.write('abilities/echo.yaml', ability('Echo 2'))
    await waitFor(
      () => loader.current().abilities.get('echo')?.name === 'Echo 2',
      WAIT_MS,
      'the changed ability',
    )

    // broken: the last good version stays, the error is listed and logged
    await tmp.write('abilities/echo.yaml', [...ability('Echo 3'), 'timeout: soon'])
    const broken = await waitFor(
      () => loader.current().errors.length > 0 && loader.current(),
      WAIT_MS,
      'the error',
    )
    expect(broken.abilities.get('echo')?.name).toBe('Echo 2')
    expect(broken.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      '5:10 timeout must be a duration such as 500ms, 30s, 10m, 1h or a number of milliseconds',
    ])
    const warning = logs.find((l) => l.level === 'warn')
    expect(warning?.fields?.errors).toEqual([
      `${file}:5:10 ${broken.errors[0].message} [#/properties/timeout/anyOf]`,
    ])

    // fixed: the error clears
    await tmp.write('abilities/echo.yaml', [...ability('Echo 4'), 'timeout: 5s'])
    const fixed = await waitFor(
      () => loader.current().abilities.get('echo')?.name === 'Echo 4' && loader.current(),
    )
    expect(fixed.errors).toEqual([])
    expect(fixed.abilities.get('echo')?.timeoutMs).toBe(5000)

    // removed: its definitions go
    await rm(file)
    const removed = await waitFor(() => !loader.current().abilities.has('echo') && loader.current())
    expect(removed.executors.has('local-mock')).toBe(true)

    // every reload bumped the version; a snapshot taken earlier did not change
    expect(reloads.map((r) => r.set.version)).toEqual([2, 3, 4, 5, 6])
    expect(first.abilities.size).toBe(0)
    expect(logs.filter((l) => l.message === 'definitions reloaded')).toHaveLength(5)
  })

  it('a file that never loaded contributes nothing; a dependent file follows its executor', async () => {
    await tmp.write('a-executor.yaml', EXECUTOR)
    await tmp.write('b-ability.yaml', ability('Echo'))
    const { loader } = await startWatching()
    expect(loader.current().abilities.has('echo')).toBe(true)

    await tmp.write('c-new.yaml', ['kind: Ability', 'id: fresh', 'executor: local-mock', 'oops: 1'])
    await waitFor(() => loader.current().errors.length === 1)
    expect(loader.current().abilities.has('fresh')).toBe(false)

    await rm(path.join(tmp.dir, 'a-executor.yaml'))
    const orphaned = await waitFor(() => !loader.current().abilities.has('echo') && loader.current())
    expect(orphaned.errors.map((e) => e.message)).toContain("unknown executor 'local-mock'")

    await tmp.write('a-executor.yaml', EXECUTOR)
    await waitFor(() => loader.current().abilities.has('echo'), WAIT_MS, 'the ability to come back')
  })

  it('a definition in force keeps its id; a newcomer duplicating it is refused', async () => {
    await tmp.write('b.yaml', [...EXECUTOR, 'maxConcurrency: 2'])
    const { loader } = await startWatching()

    // a.yaml sorts first, but b.yaml's executor was there before it
    await tmp.write('a.yaml', [...EXECUTOR, 'maxConcurrency: 9'])
    const set = await waitFor(() => loader.current().errors.length > 0 && loader.current())
    expect(set.executors.get('local-mock')?.maxConcurrency).toBe(2)
    expect(set.errors[0].message).toBe(
      `duplicate Executor id 'local-mock' (also defined in ${tmp.dir}/b.yaml:1:1)`,
    )
  })

  it('picks up a folder that did not exist when watching started', async () => {
    const later = path.join(tmp.dir, 'later')
    const { loader } = await startWatching([later])
    await tmp.write('later/x.yaml', EXECUTOR)
    await waitFor(
      () => loader.current().executors.has('local-mock'),
      WAIT_MS,
      'the executor in the new folder',
    )
  })
})
