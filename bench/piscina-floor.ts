/**
 * The floor of any design that hands each request to a worker thread: a bare
 * Hono route that runs a no-op task on piscina (same pool settings as Gantry's)
 * and answers the same JSON.
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { Piscina } from 'piscina'

const pool = new Piscina({
  filename: new URL('./piscina-noop-worker.mjs', import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
  concurrentTasksPerWorker: 32,
  atomics: 'async',
})
const app = new Hono()
app.post('/api/abilities/:id/invoke', async (c) => {
  const body = await c.req.json()
  const result = await pool.run({ inputs: body.inputs, config: {} })
  return c.json({ status: 'succeeded', logId: crypto.randomUUID(), durationMs: 0, ...result })
})
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
