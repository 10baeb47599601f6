import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGantry, type TestGantry, waitForTask } from './helpers.js'

describe('media custody', () => {
  let g: TestGantry
  let png: Buffer
  let origin: string
  let hits = 0
  const server = createServer((req, res) => {
    hits++
    if (req.url === '/result.png') {
      res.setHeader('content-type', 'image/png')
      res.end(png)
    } else {
      res.setHeader('content-type', 'text/html')
      res.end('<html>not an image</html>')
    }
  })
  beforeAll(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .png()
      .toBuffer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    g = await startGantry({
      files: {
        'a.yaml': `kind: Executor
id: m
provider: mock
---
kind: Executor
id: lan
provider: mock
config: { mediaHosts: [127.0.0.1] }
---
kind: Ability
id: inline
executor: m
config: { output: { images: [{ url: "data:image/png;base64,${png.toString('base64')}", width: 8, height: 8 }] } }
---
kind: Ability
id: remote
executor: lan
config: { output: { images: [{ image_url: x, url: "${origin}/result.png" }] } }
---
kind: Ability
id: remote-html
executor: lan
config: { output: { images: [{ url: "${origin}/page" }] } }
---
kind: Ability
id: remote-unlisted
executor: m
config: { output: { images: [{ url: "${origin}/result.png" }] } }
`,
      },
    })
  })
  afterAll(async () => {
    await g.stop()
    await new Promise((r) => server.close(r))
  })

  it('keeps a data: URL image in the media store and answers with a signed link that serves it', async () => {
    const res = await g.api('/api/abilities/inline/invoke', { body: {} })
    const image = res.body.images[0]
    expect(image.url).toMatch(/^\/media\/[0-9a-f]{64}\.png\?exp=\d+&sig=/)
    expect(image).toMatchObject({ mimeType: 'image/png', width: 8, height: 8 })
    const served = await fetch(g.url + image.url)
    expect(served.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true)
    const unsigned = await fetch(g.url + image.url.split('?')[0])
    expect(unsigned.status).toBe(403)
    const forged = await fetch(g.url + image.url.replace(/sig=.{4}/, 'sig=AAAA'))
    expect(forged.status).toBe(403)
  })

  it("fetches a provider's URL from a listed host, keeping it as sourceUrl", async () => {
    const res = await g.api('/api/abilities/remote/invoke', { body: {} })
    expect(res.status).toBe(200)
    expect(res.body.images[0].sourceUrl).toBe(`${origin}/result.png`)
    const served = await fetch(g.url + res.body.images[0].url)
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true)
  })

  it('refuses a result that is not media, and a private host the executor does not list', async () => {
    const html = await g.api('/api/abilities/remote-html/invoke', { body: {} })
    expect(html.status).toBe(502)
    expect(html.body.error.message).toContain('text/html')
    const before = hits
    const unlisted = await g.api('/api/abilities/remote-unlisted/invoke', { body: {} })
    expect(unlisted.status).toBe(502)
    expect(unlisted.body.error.message).toContain('not a host results may be fetched from')
    expect(hits).toBe(before)
  })
})

describe('large inline media of a task', () => {
  const files = {
    'a.yaml':
      'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: look\nname: Look\nexecutor: m\n',
  }
  const env = { GANTRY_SHUTDOWN_GRACE: '50ms' }

  it('are kept in the media store, not the journal, and reach the provider intact, after a restart too', async () => {
    const { readFile, readdir } = await import('node:fs/promises')
    const { join } = await import('node:path')
    let g = await startGantry({ files, env })
    const picture = `data:image/png;base64,${(
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c' } })
        .png({ compressionLevel: 0 })
        .toBuffer()
    ).toString('base64')}`
    const blocker = await g.api('/api/ability-tasks', {
      body: { abilityId: 'look', inputs: { delayMs: 3000 } },
    })
    void blocker
    try {
      const res = await g.api('/api/ability-tasks', {
        body: { abilityId: 'look', inputs: { picture, delayMs: 200 } },
      })
      expect(res.status).toBe(202)
      const journal = join(g.dataDir, 'journal')
      const text = (
        await Promise.all((await readdir(journal)).map((f) => readFile(join(journal, f), 'utf8')))
      ).join('')
      expect(text).not.toContain(picture.slice(30, 200))
      expect(text).toContain('gantry-media:data:')
      const root = g.root
      await g.stop({ keep: true })
      g = await startGantry({ root, env })
      const done = await (async () => {
        for (let i = 0; i < 100; i++) {
          const t = (await g.api(`/api/ability-tasks/${res.body.id}`)).body
          if (t.status === 'succeeded' || t.status === 'failed') return t
          await new Promise((r) => setTimeout(r, 100))
        }
      })()
      expect(done?.status).toBe('succeeded')
      expect(JSON.parse(done.resultPayload.texts[0]).picture).toBe(picture)
    } finally {
      await g.stop()
    }
  })

  it('fail the task with NOT_FOUND, rather than hand the provider a reference, once the stored input is gone', async () => {
    const { rm } = await import('node:fs/promises')
    const { join } = await import('node:path')
    let g = await startGantry({ files, env })
    const picture = `data:image/png;base64,${Buffer.alloc(8192, 7).toString('base64')}`
    await g.api('/api/ability-tasks', { body: { abilityId: 'look', inputs: { delayMs: 3000 } } })
    try {
      const res = await g.api('/api/ability-tasks', { body: { abilityId: 'look', inputs: { picture } } })
      expect(res.status).toBe(202)
      const root = g.root
      await g.stop({ keep: true })
      await rm(join(g.dataDir, 'media'), { recursive: true })
      g = await startGantry({ root, env })
      const task = await waitForTask(g, res.body.id)
      expect(task).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' })
      expect(task.errorMessage).toContain('no longer in the media store')
    } finally {
      await g.stop()
    }
  })
})
