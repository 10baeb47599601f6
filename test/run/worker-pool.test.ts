import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  eventually,
  FIXTURE_PLUGINS,
  startGantry,
  startUpstream,
  type TestGantry,
  WAIT_MS,
} from '../helpers.js'

describe('calls on the worker pool', () => {
  let g: TestGantry
  let upstream: Awaited<ReturnType<typeof startUpstream>>
  beforeAll(async () => {
    upstream = await startUpstream(80)
    g = await startGantry({
      env: {
        GANTRY_PLUGINS: [join(FIXTURE_PLUGINS, 'crashy.ts'), join(FIXTURE_PLUGINS, 'upstream.ts')].join(','),
      },
      files: {
        'defs.yaml': `
kind: Executor
id: mock-exec
provider: mock
maxConcurrency: 8
---
kind: Executor
id: narrow
provider: upstream
maxConcurrency: 3
config: { url: "${upstream.url}" }
---
kind: Executor
id: crash-exec
provider: crashy
---
kind: Ability
id: hold
name: Hold a slot on the upstream
executor: narrow
---
kind: Ability
id: spin
name: Busy loop
executor: mock-exec
timeout: 300ms
---
kind: Ability
id: echo
name: Echo
executor: mock-exec
---
kind: Ability
id: crash
name: Crash
executor: crash-exec
---
kind: Ability
id: secretive
name: Secretive
executor: mock-exec
config:
  apiKey: sk-live-abcdef123456
  output:
    raw: { apiKey: "sk-live-abcdef123456", note: "called with sk-live-abcdef123456", headers: { Authorization: "Bearer xyz" } }
`,
      },
    })
  })
  afterAll(async () => {
    await g.stop()
    await upstream.close()
  })

  it('never runs more than maxConcurrency calls of an executor at once', async () => {
    const calls = Array.from({ length: 12 }, (_, i) =>
      g.api('/api/abilities/hold/invoke', { body: { inputs: { i } } }),
    )
    // waits for the moment the limit is reached with calls queued behind it, however slowly they arrive
    const during = await eventually(
      async () => {
        const load = (await g.api('/api/admin/executors/narrow/queue-status')).body
        return load.running === 3 && load.queued > 0 ? load : undefined
      },
      WAIT_MS,
      5,
    )
    const results = await Promise.all(calls)
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(upstream.total()).toBe(12)
    expect(upstream.maxInFlight()).toBe(3)
    expect(during.running).toBe(3)
  })

  it('a busy-looping provider times out (its thread is taken back), and the next call succeeds', async () => {
    // the loop would hold its thread for a minute: only the timeout (300 ms) answers before that
    const t0 = Date.now()
    const res = await g.api('/api/abilities/spin/invoke', { body: { inputs: { cpuMs: 60_000 } } })
    const elapsed = Date.now() - t0
    expect(res.status).toBe(504)
    expect(res.body.error.code).toBe('TIMEOUT')
    expect(elapsed).toBeLessThan(60_000)
    const next = await g.api('/api/abilities/echo/invoke', { body: { inputs: { after: 'timeout' } } })
    expect(next.status).toBe(200)
    expect(next.body.status).toBe('succeeded')
  })

  it('CPU-bound calls do not block the HTTP thread', async () => {
    // ordered by events, not timed: /healthz answers while the CPU-bound call still runs
    let busyDone = false
    const busy = g.api('/api/abilities/echo/invoke', { body: { inputs: { cpuMs: 3000 } } }).finally(() => {
      busyDone = true
    })
    await eventually(
      async () => (await g.api('/api/admin/executors/mock-exec/queue-status')).body.running > 0,
    )
    const health = await g.api('/healthz', { token: null })
    expect(health.status).toBe(200)
    expect(busyDone).toBe(false)
    expect((await busy).status).toBe(200)
  })

  it('a provider that kills its worker fails with WORKER_CRASHED and the server lives on', async () => {
    const res = await g.api('/api/abilities/crash/invoke', { body: {} })
    expect(res.status).toBe(500)
    expect(res.body.error.code).toBe('WORKER_CRASHED')
    expect((await g.api('/healthz', { token: null })).status).toBe(200)
    expect((await g.api('/api/abilities/echo/invoke', { body: { inputs: { x: 1 } } })).status).toBe(200)
  })

  it('masks secrets in raw responses and logs, and elides base64 in logged requests', async () => {
    const image = Buffer.alloc(3000, 7).toString('base64')
    const res = await g.api('/api/abilities/secretive/invoke', {
      body: { imageBase64: image, inputs: { token: 'user-token-123' } },
    })
    expect(res.status).toBe(200)
    const body = JSON.stringify(res.body)
    expect(body).not.toContain('sk-live-abcdef123456')
    expect(res.body.raw).toEqual({
      apiKey: '***',
      note: 'called with ***',
      headers: { Authorization: '***' },
    })
    const log = (await g.api('/api/admin/abilities/secretive/logs')).body.items[0]
    const logText = JSON.stringify(log)
    expect(logText).not.toContain('sk-live-abcdef123456')
    expect(logText).not.toContain('user-token-123')
    expect(logText).not.toContain(image.slice(0, 100))
    expect(log.request.imageBase64).toBe(`<base64 ${image.length} chars>`)
    expect(log.request.inputs.token).toBe('***')
  })
})
