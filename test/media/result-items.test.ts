/**
 * What a provider returns as media is not always the `{ url }` objects the
 * contract names: a bare URL string is one item, and anything that is no
 * http(s) or media data: URL never reaches a client as a link.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMediaCustody } from '../../core/media/custody.js'
import { createMediaLinks } from '../../core/media/signed-link.js'
import { createFileMediaStore } from '../../core/store/data-dir/media-store.js'
import { makeTempDir, ROOT, startGantry, type TestGantry, waitForTask } from '../helpers.js'

const HOSTILE = [
  { url: 42 },
  { url: { href: 'https://example.com/x.png' } },
  { url: null },
  { url: 'javascript:alert(document.cookie)' },
  { url: 'JaVaScRiPt:alert(1)' },
  { url: 'file:///etc/passwd' },
  { url: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' },
  { url: '/media/0000.png?exp=1&sig=forged' },
  'vbscript:msgbox(1)',
  7,
  null,
]

describe('media items of a result', () => {
  let g: TestGantry
  let png: Buffer
  let big: string
  let origin: string
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'image/png')
    res.end(png)
  })
  beforeAll(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#e52' } })
      .png()
      .toBuffer()
    // a 200 KB picture, as a data: URL string: once an object with a key per character
    big = `data:image/png;base64,${(
      await sharp({ create: { width: 256, height: 256, channels: 3, background: '#17a' } })
        .png({ compressionLevel: 0 })
        .toBuffer()
    ).toString('base64')}`
    expect(big.length).toBeGreaterThan(200_000)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const dataPng = `data:image/png;base64,${png.toString('base64')}`
    g = await startGantry({
      files: {
        'a.yaml': `kind: Executor
id: lan
provider: mock
config: { mediaHosts: [127.0.0.1] }
---
kind: Ability
id: strings
executor: lan
config: { output: { images: ["${origin}/a.png", "${dataPng}"], assets: ["${dataPng}"] } }
---
kind: Ability
id: big-string
executor: lan
config: { output: { images: ["${big}"] } }
---
kind: Ability
id: hostile
executor: lan
config: { output: { images: ${JSON.stringify([...HOSTILE, dataPng])}, videos: ${JSON.stringify(HOSTILE)} } }
`,
      },
    })
  }, 60_000)
  afterAll(async () => {
    await g.stop()
    await new Promise((r) => server.close(r))
  })

  it('takes a bare URL string as { url }: kept in the store and answered as a signed link', async () => {
    const res = await g.api('/api/abilities/strings/invoke', { body: {} })
    expect(res.status).toBe(200)
    const [fetched, inline] = res.body.images
    expect(fetched).toEqual({
      url: expect.stringMatching(/^\/media\/[0-9a-f]{64}\.png\?exp=\d+&sig=/),
      mimeType: 'image/png',
      sourceUrl: `${origin}/a.png`,
    })
    expect(inline).toEqual({
      url: expect.stringMatching(/^\/media\/[0-9a-f]{64}\.png\?/),
      mimeType: 'image/png',
    })
    expect(Object.keys(res.body.assets[0]).sort()).toEqual(['mimeType', 'url'])
    const served = await fetch(g.url + inline.url)
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true)
  })

  it('keeps a 200 KB data: URL string as one small item, in a task as in a sync call', async () => {
    const sync = await g.api('/api/abilities/big-string/invoke', { body: {} })
    expect(sync.status).toBe(200)
    expect(Object.keys(sync.body.images[0]).sort()).toEqual(['mimeType', 'url'])
    expect(JSON.stringify(sync.body).length).toBeLessThan(10_000)
    const submitted = await g.api('/api/ability-tasks', { body: { abilityId: 'big-string' } })
    const task = await waitForTask(g, submitted.body.id, undefined, 30_000)
    expect(task.status).toBe('succeeded')
    expect(Object.keys(task.resultPayload.images[0]).sort()).toEqual(['mimeType', 'url'])
    expect(JSON.stringify(task).length).toBeLessThan(10_000)
  }, 60_000)

  it('drops every item whose url is not an http(s), media data: or own signed link, and keeps the rest', async () => {
    const res = await g.api('/api/abilities/hostile/invoke', { body: {} })
    expect(res.status).toBe(200)
    expect(res.body.images).toHaveLength(1)
    expect(res.body.images[0].url).toMatch(/^\/media\/[0-9a-f]{64}\.png\?exp=\d+&sig=/)
    expect(res.body.videos).toEqual([])
    expect(JSON.stringify(res.body.images)).not.toMatch(/javascript|vbscript|file:|text\/html/i)
  })
})

describe('media custody, on its own', () => {
  it('says in the log which item it dropped and why', async () => {
    const lines: { message: string; fields?: Record<string, unknown> }[] = []
    const links = createMediaLinks('secret', 3600)
    const custody = createMediaCustody({
      store: createFileMediaStore(await makeTempDir('gantry-custody-')),
      links,
      maxBytes: 1024 * 1024,
      allowPrivate: false,
      log: (_level, message, fields) => lines.push({ message, fields }),
    })
    const own = links.link(`${'a'.repeat(64)}.png`)
    const kept = await custody.keepResult({ images: [...HOSTILE, { url: own }] as never }, [], {
      abilityId: 'x',
    })
    // a link this Gantry signed is kept as it is
    expect(kept.images).toEqual([{ url: own }])
    expect(lines).toHaveLength(HOSTILE.length)
    expect(lines.every((l) => l.message === 'result media item dropped' && l.fields?.abilityId === 'x')).toBe(
      true,
    )
    const reasons = lines.map((l) => String(l.fields?.reason))
    expect(reasons[0]).toContain('url is number, not a string')
    expect(reasons[3]).toContain('javascript:, not http(s)')
    expect(reasons[6]).toContain('data: URL of text/html')
    expect(reasons[9]).toContain('an item that is number')
  })
})

describe('the console', () => {
  it('links only to /media, http(s) and media data: URLs', async () => {
    const { mediaHref } = await import(pathToFileURL(join(ROOT, 'console/result-view.js')).href)
    for (const url of ['/media/a.png?exp=1&sig=x', 'https://cdn.example/a.png', 'data:image/png;base64,AA=='])
      expect(mediaHref(url), url).toBe(url)
    for (const url of [
      'javascript:alert(1)',
      ' javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:x',
      42,
      { toString: () => 'https://x' },
      null,
    ])
      expect(mediaHref(url), String(url)).toBeUndefined()
  })
})
