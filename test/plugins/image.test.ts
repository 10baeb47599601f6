import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import {
  bytesOfDataUrl,
  changedPixels,
  gradient,
  pixelsOf,
  redSquareOnTransparent,
  softEdge,
  solid,
  toBase64,
} from './image-pictures.js'

// the shipped definitions, plus an ability that would retry a retryable failure and an
// executor that may fetch from this machine (the test's image host is on loopback)
const TEST_DEFINITIONS = `
---
kind: Ability
id: test.white_background_retrying
executor: local-image
retry: { max: 2, backoff: 10ms }
config: { operation: white_background }
---
kind: Executor
id: local-image-lan
provider: image
config: { allowPrivateUrls: true }
---
kind: Ability
id: test.white_background_lan
executor: local-image-lan
config: { operation: white_background }
`

const NOT_AN_IMAGE = Buffer.from('these are words, not pixels; '.repeat(20)).toString('base64')

/** A local image host: the product photo, a redirect to it, an HTML page and a 404. */
async function startImageHost(product: Buffer) {
  const server: Server = createServer((req, res) => {
    if (req.url === '/product.png') res.writeHead(200, { 'content-type': 'image/png' }).end(product)
    else if (req.url === '/moved') res.writeHead(302, { location: '/product.png' }).end()
    else if (req.url === '/page.html') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>')
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('the image provider', () => {
  let g: TestGantry
  let host: Awaited<ReturnType<typeof startImageHost>>
  let product: Buffer
  const invoke = (abilityId: string, body: object) => g.api(`/api/abilities/${abilityId}/invoke`, { body })
  /** The bytes of a result's first image: a data URL, or Gantry's signed /media link when it keeps media. */
  async function imageOf(res: { body: { images: { url: string; mimeType: string }[] } }): Promise<Buffer> {
    const { url, mimeType } = res.body.images[0]
    if (url.startsWith('data:')) return bytesOfDataUrl(url)
    const served = await fetch(new URL(url, g.url))
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toBe(mimeType)
    return Buffer.from(await served.arrayBuffer())
  }

  beforeAll(async () => {
    // a 100 px red square in a 400x300 transparent canvas: a product cut out, with a wide empty border
    product = await redSquareOnTransparent({ width: 400, height: 300 }, { left: 150, top: 110, size: 100 })
    host = await startImageHost(product)
    const shipped = await readFile(join(ROOT, 'abilities/image.yaml'), 'utf8')
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/image/index.ts') },
      files: { 'image.yaml': shipped + TEST_DEFINITIONS },
    })
    await g.api('/api/admin/wallets/admin/grant', { body: { points: 1000, reason: 'image tests' } })
  })
  afterAll(async () => {
    await g?.stop()
    await host?.close()
  })

  it('loads the shipped abilities/image.yaml without errors', async () => {
    expect((await g.api('/api/admin/definitions/errors')).body.items).toEqual([])
    const ids = (await g.api('/api/abilities')).body.abilities.map((a: { id: string }) => a.id)
    expect(ids).toEqual(
      expect.arrayContaining([
        'basic_clean.white_background',
        'basic_clean.enhance',
        'image.resize',
        'image.watermark',
      ]),
    )
  })

  it('white_background: flattens onto white, trims the border and centres the product with a margin', async () => {
    const res = await invoke('basic_clean.white_background', { imageBase64: toBase64(product) })
    expect(res.status).toBe(200)
    expect(res.body.images[0]).toMatchObject({ mimeType: 'image/png', width: 110, height: 110 })
    const out = await pixelsOf(await imageOf(res))
    // trimmed to the square plus 5% of its side on every edge, far smaller than the 400x300 canvas
    expect([out.width, out.height]).toEqual([110, 110])
    for (const [x, y] of [
      [0, 0],
      [109, 0],
      [0, 109],
      [109, 109],
      [2, 55],
    ]) {
      expect(out.at(x, y)).toEqual([255, 255, 255])
    }
    expect(out.at(55, 55)).toEqual([255, 0, 0])
    expect(res.body.raw).toEqual({
      operation: 'white_background',
      width: 110,
      height: 110,
      bytes: expect.any(Number),
      format: 'png',
    })
    expect(res.body.cost).toEqual({ points: 2 })
  })

  it('white_background takes a margin and an output format', async () => {
    const res = await invoke('basic_clean.white_background', {
      inputs: { imageBase64: `data:image/png;base64,${toBase64(product)}`, margin: 20, format: 'jpeg' },
    })
    expect(res.status).toBe(200)
    expect(res.body.images[0]).toMatchObject({ mimeType: 'image/jpeg', width: 140, height: 140 })
    const out = await pixelsOf(await imageOf(res))
    expect(out.format).toBe('jpeg')
    // JPEG is lossy: near white and near red
    expect(Math.min(...out.at(3, 3))).toBeGreaterThan(245)
    const [r, gr, b] = out.at(70, 70)
    expect(r).toBeGreaterThan(230)
    expect(Math.max(gr, b)).toBeLessThan(30)
  })

  it('enhance: brightness 1.5 lifts a mid-grey image; sharpening keeps the size', async () => {
    const grey = await solid(64, 48, [128, 128, 128])
    const res = await invoke('basic_clean.enhance', {
      imageBase64: toBase64(grey),
      inputs: { brightness: 1.5 },
    })
    expect(res.status).toBe(200)
    const out = await pixelsOf(await imageOf(res))
    expect(out.mean()).toBeGreaterThan(128 * 1.3)
    expect([out.width, out.height]).toEqual([64, 48])

    const edge = await softEdge(120, 90)
    const sharpened = await invoke('basic_clean.enhance', {
      imageBase64: toBase64(edge),
      inputs: { sharpen: 2, brightness: 1, saturation: 1, contrast: 1 },
    })
    const [before, after] = await Promise.all([pixelsOf(edge), pixelsOf(await imageOf(sharpened))])
    expect([after.width, after.height]).toEqual([120, 90])
    // crisper: darker just left of the edge, lighter just right of it
    expect(after.at(57, 45)[0]).toBeLessThan(before.at(57, 45)[0])
    expect(after.at(62, 45)[0]).toBeGreaterThan(before.at(62, 45)[0])
  })

  it('enhance refuses a brightness out of bounds before running', async () => {
    const res = await invoke('basic_clean.enhance', {
      imageBase64: toBase64(await solid(8, 8, [1, 2, 3])),
      inputs: { brightness: 50 },
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('VALIDATION_FAILED')
  })

  it('resize to 256 wide keeps the aspect ratio and converts to webp', async () => {
    const res = await invoke('image.resize', {
      imageBase64: toBase64(await gradient(400, 300)),
      inputs: { width: 256, format: 'webp' },
    })
    expect(res.status).toBe(200)
    expect(res.body.images[0]).toMatchObject({ mimeType: 'image/webp', width: 256, height: 192 })
    const out = await pixelsOf(await imageOf(res))
    expect(out).toMatchObject({ format: 'webp', width: 256, height: 192 })
    expect(res.body.raw).toMatchObject({ operation: 'resize', format: 'webp', width: 256, height: 192 })
  })

  it('watermark: the bottom-right corner changes, the top-left does not', async () => {
    const original = await gradient(320, 240)
    const res = await invoke('image.watermark', {
      imageBase64: toBase64(original),
      inputs: { text: 'GANTRY', fontSize: 40, opacity: 0.9 },
    })
    expect(res.status).toBe(200)
    const [before, after] = await Promise.all([pixelsOf(original), pixelsOf(await imageOf(res))])
    expect([after.width, after.height]).toEqual([320, 240])
    expect(changedPixels(before, after, { x0: 160, y0: 180, x1: 320, y1: 240 })).toBeGreaterThan(200)
    expect(changedPixels(before, after, { x0: 0, y0: 0, x1: 160, y1: 120 })).toBe(0)
  })

  it('fails a non-image with VALIDATION_FAILED and does not retry it', async () => {
    const res = await invoke('test.white_background_retrying', { imageBase64: NOT_AN_IMAGE })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'VALIDATION_FAILED' } })
    expect(res.body.cost).toEqual({ points: 0 })

    const task = await g.api('/api/ability-tasks', {
      body: { abilityId: 'test.white_background_retrying', imageBase64: NOT_AN_IMAGE },
    })
    const done = await waitForTask(g, task.body.id)
    expect(done).toMatchObject({ status: 'failed', attempts: 1, errorCode: 'VALIDATION_FAILED' })
    const logs = await g.api('/api/admin/abilities/test.white_background_retrying/logs')
    expect(logs.body.items).toHaveLength(2)
  })

  it('fails a call without any image with VALIDATION_FAILED', async () => {
    const res = await invoke('basic_clean.white_background', { inputs: {} })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('no image'),
    })
  })

  it('refuses an SVG, which could reference other files', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>'
    const res = await invoke('image.resize', {
      imageBase64: Buffer.from(svg).toString('base64'),
      inputs: { width: 32 },
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining("'svg'"),
    })
  })

  it('fetches an http imageUrl (following a redirect), and refuses one that is not an image', async () => {
    const res = await invoke('test.white_background_lan', { imageUrl: `${host.url}/moved` })
    expect(res.status).toBe(200)
    const out = await pixelsOf(await imageOf(res))
    expect([out.width, out.height]).toEqual([110, 110])
    expect(out.at(55, 55)).toEqual([255, 0, 0])

    const page = await invoke('test.white_background_lan', { imageUrl: `${host.url}/page.html` })
    expect(page.status).toBe(400)
    expect(page.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('text/html'),
    })
    const missing = await invoke('test.white_background_lan', {
      inputs: { imageUrl: `${host.url}/gone.png` },
    })
    expect(missing.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('404'),
    })
  })

  it('refuses image URLs on private addresses unless the executor allows them; a caller cannot', async () => {
    const res = await invoke('basic_clean.white_background', { imageUrl: `${host.url}/product.png` })
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('private address'),
    })
    const lifted = await invoke('basic_clean.white_background', {
      inputs: { imageUrl: `${host.url}/product.png`, allowPrivateUrls: true },
    })
    expect(lifted.body.error.code).toBe('VALIDATION_FAILED')
    const metadata = await invoke('basic_clean.white_background', {
      imageUrl: 'http://169.254.169.254/latest/meta-data',
    })
    expect(metadata.body.error.code).toBe('VALIDATION_FAILED')
    // a name is judged by the addresses the connection is made to
    const byName = await invoke('basic_clean.white_background', {
      imageUrl: `${host.url.replace('127.0.0.1', 'localhost')}/product.png`,
    })
    expect(byName.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('private address'),
    })
  })

  it('keeps the image bytes out of the invocation log', async () => {
    const sent = toBase64(product)
    const res = await invoke('image.resize', { imageBase64: sent, inputs: { imageBase64: sent, width: 50 } })
    expect(res.status).toBe(200)
    const logs = await g.api('/api/admin/abilities/image.resize/logs?limit=1')
    const log = logs.body.items[0]
    expect(log.logId).toBe(res.body.logId)
    expect(log.request.imageBase64).toBe(`<base64 ${sent.length} chars>`)
    expect(log.request.inputs.imageBase64).toBe(`<base64 ${sent.length} chars>`)
    expect(log.raw).toEqual({
      operation: 'resize',
      width: 50,
      height: 38,
      bytes: expect.any(Number),
      format: 'png',
    })
    expect(JSON.stringify(log)).not.toContain(sent.slice(0, 64))
    expect(JSON.stringify(log)).not.toContain('base64,')
  })
})
