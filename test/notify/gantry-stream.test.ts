import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { openStream } from './notify-harness.js'

const DEFS = `kind: Executor
id: m
provider: mock
---
kind: Ability
id: render
name: Render
executor: m
pricing: { base: 5 }
config: { delayMs: 300, progressSteps: 3 }
`

describe('events of a running Gantry over SSE', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
  })
  afterAll(() => g.stop())

  it("a user watches its task's statuses, progress, wallet and log; another user sees none of it", async () => {
    const zoe = g.token('zoe')
    const stream = openStream(`${g.url}/api/notify/v1`, { token: zoe })
    const other = openStream(`${g.url}/api/notify/v1`, { token: g.token('yan') })
    await Promise.all([stream.opened, other.opened])
    await g.api('/api/admin/wallets/zoe/grant', { body: { points: 20, reason: 'test' } })
    const task = await g.api('/api/ability-tasks', { body: { abilityId: 'render' }, token: zoe })
    await waitForTask(g, task.body.id, undefined, 8000, zoe)
    const seen = await eventually(() => {
      const statuses = stream.events
        .filter((e) => e.type === 'ability-task.status')
        .map((e) => e.payload.status)
      return statuses.includes('succeeded') ? stream.events : undefined
    })
    const statuses = seen.filter((e) => e.type === 'ability-task.status').map((e) => e.payload.status)
    expect(statuses[0]).toBe('queued')
    expect(statuses).toContain('running')
    expect(statuses.at(-1)).toBe('succeeded')
    expect(
      seen.some(
        (e) => e.type === 'ability-task.status' && e.payload.progress > 0 && e.payload.progress < 100,
      ),
    ).toBe(true)
    const wallet = seen.filter((e) => e.type === 'wallet.points').map((e) => e.payload.status)
    expect(wallet).toEqual(['granted', 'frozen', 'committed'])
    expect(seen.some((e) => e.type === 'ability-log.created' && e.payload.abilityId === 'render')).toBe(true)
    const ids = seen.map((e) => e.id)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(other.events).toEqual([])
    stream.close()
    other.close()
  })
})
