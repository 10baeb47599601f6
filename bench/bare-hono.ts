/** The baseline: a bare Hono route on @hono/node-server answering a JSON POST like an invoke does. */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()
app.post('/api/abilities/:id/invoke', async (c) => {
  const body = await c.req.json()
  return c.json({
    status: 'succeeded',
    logId: crypto.randomUUID(),
    durationMs: 0,
    attempts: 1,
    images: [],
    videos: [],
    texts: [JSON.stringify(body.inputs)],
    assets: [],
    cost: { points: 0 },
    raw: { mock: true, inputs: body.inputs },
  })
})
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
