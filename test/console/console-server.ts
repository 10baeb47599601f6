/**
 * Serves the console next to a test Gantry on one origin, so the page's relative `/api/...`
 * calls reach that Gantry: `/console/*` from consoleRoutes(), everything else forwarded.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { consoleRoutes } from '../../core/http/routes/console.js'
import type { TestGantry } from '../helpers.js'

/** Set to true once core/http/app.ts mounts consoleRoutes(): the tests then hit Gantry itself. */
export const CONSOLE_WIRED_IN_CORE = true

export async function serveConsole(g: TestGantry): Promise<{ url: string; close(): Promise<void> }> {
  if (CONSOLE_WIRED_IN_CORE) return { url: g.url, close: async () => {} }
  const app = new Hono()
  app.route('/console', consoleRoutes())
  // c.env carries Node's raw request/response, which Gantry's SSE route uses to cut off a stalled client
  app.all('*', (c) => g.gantry.app.fetch(c.req.raw, c.env))
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // open event streams would hold close() forever
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
