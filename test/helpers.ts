/**
 * Test helpers: start a real Gantry (real HTTP, real worker threads, real
 * files) on a temp data dir, and make tokens for it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signToken } from '../core/auth/jwt.js'
import { loadConfig } from '../core/config.js'
import { createGantry, type Gantry } from '../core/gantry.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const FIXTURE_PLUGINS = join(ROOT, 'test/fixtures/plugins')
export const JWT_SECRET = 'test-secret-for-gantry-tests-only'
export const WEBHOOK_SECRET = `whsec_${Buffer.from('gantry-test-webhook-key-0123456789').toString('base64')}`

export interface TestGantry {
  gantry: Gantry
  url: string
  dataDir: string
  abilitiesDir: string
  token(sub: string, role?: 'user' | 'admin'): string
  /** fetch against the server, JSON body and bearer token filled in. */
  api(
    path: string,
    init?: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>
  writeDefinition(name: string, yaml: string): Promise<void>
  /** Stops the server; `keep` leaves its files, for a restart with `startGantry({root})`. */
  stop(opts?: { keep?: boolean }): Promise<void>
  root: string
}

export async function makeTempDir(prefix = 'gantry-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function startGantry(
  opts: { files?: Record<string, string>; env?: Record<string, string>; root?: string } = {},
): Promise<TestGantry> {
  const root = opts.root ?? (await makeTempDir())
  const dataDir = join(root, 'data')
  const abilitiesDir = join(root, 'abilities')
  await mkdir(abilitiesDir, { recursive: true })
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    await mkdir(dirname(join(abilitiesDir, name)), { recursive: true })
    await writeFile(join(abilitiesDir, name), text)
  }
  const config = loadConfig({
    PORT: '0',
    GANTRY_DATA_DIR: dataDir,
    GANTRY_ABILITIES_DIR: abilitiesDir,
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: JWT_SECRET,
    GANTRY_MAX_WORKERS: '2',
    GANTRY_LOG_LEVEL: 'error',
    GANTRY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...opts.env,
  })
  const gantry = await createGantry(config)
  await gantry.start()
  const url = gantry.url!
  const token = (sub: string, role: 'user' | 'admin' = 'user') =>
    signToken({ sub, role }, { secret: JWT_SECRET })
  const adminToken = token('admin', 'admin')
  return {
    gantry,
    url,
    dataDir,
    abilitiesDir,
    root,
    token,
    async api(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers }
      const bearer = init.token === undefined ? adminToken : init.token
      if (bearer) headers.authorization = `Bearer ${bearer}`
      let body: string | undefined
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
        headers['content-type'] ??= 'application/json'
      }
      const res = await fetch(url + path, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers }
    },
    async writeDefinition(name, yaml) {
      await mkdir(dirname(join(abilitiesDir, name)), { recursive: true })
      await writeFile(join(abilitiesDir, name), yaml)
    },
    async stop(stopOpts = {}) {
      await gantry.stop()
      if (!stopOpts.keep) await rm(root, { recursive: true, force: true })
    },
  }
}

/**
 * How long a test waits for something that will happen: generous, because the
 * machine may be busy (CI shares two cores), and short of vitest's own test
 * timeout so a failure says what it was waiting for. Tests wait on conditions
 * and events; a deadline of a few seconds is not something a test asserts.
 */
export const WAIT_MS = 45_000

/** Polls until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = WAIT_MS,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${last}` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** A local HTTP server that holds each request for `holdMs` and counts how many are open at once. */
export async function startUpstream(
  holdMs = 100,
): Promise<{ url: string; maxInFlight(): number; total(): number; close(): Promise<void> }> {
  let inFlight = 0
  let max = 0
  let total = 0
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++
    total++
    max = Math.max(max, inFlight)
    req.resume()
    setTimeout(() => {
      inFlight--
      res.end('ok')
    }, holdMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    maxInFlight: () => max,
    total: () => total,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** Polls a task until it reaches one of `statuses`. */
export async function waitForTask(
  g: TestGantry,
  id: string,
  statuses: string[] = ['succeeded', 'failed', 'canceled'],
  timeoutMs = WAIT_MS,
  token?: string,
) {
  return eventually(async () => {
    const res = await g.api(`/api/ability-tasks/${id}`, token ? { token } : {})
    return statuses.includes(res.body.status) ? res.body : undefined
  }, timeoutMs)
}
