import { chmod, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, makeTempDir, startGantry, type TestGantry, waitForTask } from '../helpers.js'

/** Every file and folder under `dir` (itself included), with its permission bits. */
async function modes(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = { '.': ((await stat(dir)).mode & 0o777).toString(8) }
  for (const name of await readdir(dir, { recursive: true })) {
    found[name] = ((await stat(join(dir, name))).mode & 0o777).toString(8)
  }
  return found
}

function expectPrivate(found: Record<string, string>, dataDir: string) {
  for (const [name, mode] of Object.entries(found)) {
    // a folder may be entered by its owner only, a file read by its owner only
    expect({ name, mode }).toEqual({ name, mode: name === '.' || !name.includes('.') ? '700' : '600' })
  }
  expect(Object.keys(found).length, dataDir).toBeGreaterThan(8)
}

describe('the data dir on disk', () => {
  const received: string[] = []
  const receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      received.push(String(req.headers['x-api-key']))
      res.end('ok')
    })
  })
  let png: Buffer
  let umask: number
  beforeAll(async () => {
    // the usual umask, which leaves what is created readable by everyone unless Gantry says otherwise
    umask = process.umask(0o022)
    png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toBuffer()
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    process.umask(umask)
    await new Promise((r) => receiver.close(r))
  })

  it('keeps the journal, logs, events, media, secrets, meta.json and the lock readable by their owner only', async () => {
    let g: TestGantry | undefined
    try {
      g = await startGantry({
        env: { GANTRY_WEBHOOK_SECRET: '', GANTRY_ALLOW_PRIVATE_CALLBACKS: 'true' },
        files: {
          'defs.yaml': `kind: Executor
id: m
provider: mock
---
kind: Ability
id: picture
name: A picture
executor: m
config: { output: { images: [{ url: "data:image/png;base64,${png.toString('base64')}", width: 4, height: 4 }] } }
`,
        },
      })
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
      const res = await g.api('/api/ability-tasks', {
        body: {
          abilityId: 'picture',
          callbackUrl: url,
          callbackHeaders: { 'x-api-key': 'secret-of-the-caller' },
        },
      })
      expect(res.status).toBe(202)
      expect((await waitForTask(g, res.body.id)).status).toBe('succeeded')
      await eventually(() => received.includes('secret-of-the-caller'), 15_000)

      const found = await modes(g.dataDir)
      for (const expected of [
        'journal',
        'logs',
        'events',
        'media',
        'secrets.json',
        'meta.json',
        'gantry.lock',
      ])
        expect(Object.keys(found)).toContain(expected)
      expect(Object.keys(found).some((name) => name.startsWith('media/') && name.endsWith('.png'))).toBe(true)
      // the secret the issue names is in there
      const journal = await readFile(join(g.dataDir, 'journal/segment-000001.jsonl'), 'utf8')
      expect(journal).toContain('secret-of-the-caller')
      expectPrivate(found, g.dataDir)
    } finally {
      await g?.stop()
    }
  }, 60_000)

  it('takes away what others could read of an existing data dir', async () => {
    const root = await makeTempDir()
    try {
      await mkdir(join(root, 'data'), { mode: 0o755 })
      await chmod(join(root, 'data'), 0o755)
      const g = await startGantry({ root })
      expect(((await stat(g.dataDir)).mode & 0o777).toString(8)).toBe('700')
      await g.stop({ keep: true })
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
