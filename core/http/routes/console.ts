/**
 * `/console`: the operator console, plain static files from `console/` (no build step).
 * Only the files listed here are served, so no path a client sends can reach elsewhere.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'

const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../console')

/** Every file the console is made of, with its content type. */
export const CONSOLE_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
  'schema-form.js': 'text/javascript; charset=utf-8',
  'result-view.js': 'text/javascript; charset=utf-8',
  'view-abilities.js': 'text/javascript; charset=utf-8',
  'view-tasks.js': 'text/javascript; charset=utf-8',
  'view-workflows.js': 'text/javascript; charset=utf-8',
  'view-admin.js': 'text/javascript; charset=utf-8',
}

/**
 * @example
 * app.route('/console', consoleRoutes())
 */
export function consoleRoutes(opts: { dir?: string } = {}): Hono {
  const dir = opts.dir ?? CONSOLE_DIR

  async function serveFile(name: string) {
    const type = Object.hasOwn(CONSOLE_FILES, name) ? CONSOLE_FILES[name] : undefined
    if (!type) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } })
    const body = await readFile(join(dir, name))
    return new Response(new Uint8Array(body), {
      headers: {
        'content-type': type,
        // files change with the code, and a stale module next to a fresh one breaks the page
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        ...(name === 'index.html'
          ? {
              'content-security-policy':
                "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            }
          : {}),
      },
    })
  }

  return new Hono()
    .get('/', () => serveFile('index.html'))
    .get('/:file', (c) => serveFile(c.req.param('file')))
}
