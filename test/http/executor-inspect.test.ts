import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXTURE_PLUGINS, startGantry, type TestGantry } from '../helpers.js'

describe("an executor's backend, for operators", () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(FIXTURE_PLUGINS, 'inspectable.ts') },
      files: {
        'a.yaml': [
          'kind: Executor\nid: gpu\nprovider: inspectable\nconfig: { pending: 3 }',
          'kind: Executor\nid: down\nprovider: inspectable\nconfig: { down: true }',
          'kind: Executor\nid: plain\nprovider: mock',
        ].join('\n---\n'),
      },
    })
  })
  afterAll(() => g.stop())

  it("shows the backend's own queue beside Gantry's counts, and says when the backend does not answer", async () => {
    const gpu = await g.api('/api/admin/executors/gpu/queue-status')
    expect(gpu.body).toMatchObject({
      executorId: 'gpu',
      running: 0,
      queued: 0,
      backend: { running: 1, pending: 3 },
    })
    const down = await g.api('/api/admin/executors/down/queue-status')
    expect(down.body).toMatchObject({ backend: null, backendError: 'connection refused' })
    expect((await g.api('/api/admin/executors/plain/queue-status')).body.backend).toBeUndefined()
  })

  it('lists models, cached for a minute unless refreshed', async () => {
    const first = await g.api('/api/admin/executors/gpu/models')
    const again = await g.api('/api/admin/executors/gpu/models')
    expect(again.body.models).toEqual(first.body.models)
    const refreshed = await g.api('/api/admin/executors/gpu/models?refresh=true')
    expect(refreshed.body.models.checkpoints[1]).not.toBe(first.body.models.checkpoints[1])
    expect((await g.api('/api/admin/executors/plain/models')).status).toBe(404)
    expect((await g.api('/api/admin/executors/gpu/models', { token: g.token('u') })).status).toBe(403)
  })
})
