import { describe, expect, it } from 'vitest'
import { startGantry } from '../helpers.js'

describe('graceful shutdown', () => {
  it('lets a running call finish, then stops taking requests', async () => {
    const g = await startGantry({
      files: {
        'a.yaml':
          'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: slow\nname: Slow\nexecutor: m\n',
      },
    })
    const running = g.api('/api/abilities/slow/invoke', { body: { inputs: { delayMs: 600 } } })
    await new Promise((r) => setTimeout(r, 100))
    const stopped = g.stop()
    const res = await running
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('succeeded')
    await stopped
    await expect(fetch(`${g.url}/healthz`)).rejects.toThrow()
  })
})
