import { describe, expect, it } from 'vitest'
import { CONSOLE_FILES, consoleRoutes } from '../../core/http/routes/console.js'

describe('the /console route', () => {
  const app = consoleRoutes()
  const get = (path: string) => app.request(`http://localhost${path}`)

  it('serves the page at /console with no-cache', async () => {
    const res = await get('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(await res.text()).toContain('<script type="module" src="/console/app.js">')
  })

  it('serves each listed file with its content type', async () => {
    for (const [name, type] of Object.entries(CONSOLE_FILES)) {
      const res = await get(`/${name}`)
      expect(res.status, name).toBe(200)
      expect(res.headers.get('content-type')).toBe(type)
    }
  })

  it('refuses anything not listed, traversal included', async () => {
    for (const path of [
      '/../package.json',
      '/%2e%2e%2fpackage.json',
      '/..%2F..%2Fpackage.json',
      '/nope.js',
      '/toString',
    ]) {
      expect((await get(path)).status, path).toBe(404)
    }
  })

  it('keeps the first load under 200 KB', async () => {
    let total = 0
    for (const name of Object.keys(CONSOLE_FILES))
      total += (await (await get(`/${name}`)).arrayBuffer()).byteLength
    expect(total).toBeLessThan(200 * 1024)
  })
})
