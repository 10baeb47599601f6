import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startGantry, type TestGantry } from '../helpers.js'

const EXECUTOR = 'kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: 4\n'
const ability = (text: string, delayMs = 0) =>
  `kind: Ability\nid: greet\nname: Greet\nexecutor: m\nconfig: { delayMs: ${delayMs}, output: { texts: ["${text}"] } }\n`

describe('hot reload over HTTP', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'executor.yaml': EXECUTOR } })
  })
  afterAll(() => g.stop())

  const ids = async () =>
    (await g.api('/api/abilities', { token: null })).body.abilities.map((a: { id: string }) => a.id)
  const invokeGreet = async () => (await g.api('/api/abilities/greet/invoke', { body: {} })).body.texts?.[0]

  it('serves a dropped file, follows a change, keeps the last good version of a broken file, and drops a removed one', async () => {
    await g.writeDefinition('greet.yaml', ability('hello'))
    await eventually(async () => (await ids()).includes('greet'))
    expect(await invokeGreet()).toBe('hello')

    await g.writeDefinition('greet.yaml', ability('bonjour'))
    await eventually(async () => (await invokeGreet()) === 'bonjour')

    await g.writeDefinition('greet.yaml', 'kind: Ability\nid: greet\nexecutor: m\nname: [unclosed\n')
    const errors = await eventually(async () => {
      const items = (await g.api('/api/admin/definitions/errors')).body.items
      return items.length ? items : undefined
    })
    expect(errors[0].location).toMatch(/^.*greet\.yaml:\d+:\d+$/)
    expect(await invokeGreet()).toBe('bonjour')

    await g.writeDefinition('greet.yaml', ability('hallo'))
    await eventually(async () => (await g.api('/api/admin/definitions/errors')).body.items.length === 0)
    expect(await invokeGreet()).toBe('hallo')

    await rm(join(g.abilitiesDir, 'greet.yaml'))
    await eventually(async () => !(await ids()).includes('greet'))
    expect((await g.api('/api/abilities/greet/invoke', { body: {} })).status).toBe(404)
  })

  it('a call already running finishes on the definition it started with', async () => {
    await g.writeDefinition('slow.yaml', ability('before', 3000).replace('greet', 'slow'))
    await eventually(async () => (await ids()).includes('slow'))
    const running = g.api('/api/abilities/slow/invoke', { body: {} })
    // the change lands once the call is running, however long that takes
    await eventually(async () => (await g.api('/api/admin/executors/m/queue-status')).body.running === 1)
    await g.writeDefinition('slow.yaml', ability('after', 0).replace('greet', 'slow'))
    await eventually(
      async () => (await g.api('/api/abilities/slow/invoke', { body: {} })).body.texts?.[0] === 'after',
    )
    expect((await running).body.texts).toEqual(['before'])
  })
})
