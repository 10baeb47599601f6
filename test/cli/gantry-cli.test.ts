import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyToken } from '../../core/auth/jwt.js'
import { eventually, makeTempDir, ROOT } from '../helpers.js'

const BIN = join(ROOT, 'core/cli/gantry.js')

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Starts `gantry serve` and resolves with its URL once it listens. */
function serve(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, PORT: '0', ...env },
      cwd: ROOT,
    })
    let output = ''
    const onData = (d: Buffer) => {
      output += d
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) resolve({ child, url: match[1], output: () => output })
    }
    child.stderr.on('data', onData)
    child.stdout.on('data', onData)
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)))
  })
}

describe('the gantry command', () => {
  let dir: string
  beforeAll(async () => {
    dir = await makeTempDir()
    await mkdir(join(dir, 'good'))
    await mkdir(join(dir, 'bad'))
    await writeFile(
      join(dir, 'good/a.yaml'),
      'kind: Executor\nid: m\nprovider: mock\n---\nkind: Ability\nid: x\nname: X\nexecutor: m\n',
    )
    await writeFile(join(dir, 'bad/b.yaml'), 'kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: two\n')
    await writeFile(join(dir, 'bad/c.yaml'), 'kind: Ability\nid: y\nname: Y\nexecutor: nowhere\n')
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('validate exits 0 on good definitions', async () => {
    const res = await run(['validate', join(dir, 'good')])
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('')
  })

  it('validate exits 1 and prints one file:line:col line per error', async () => {
    const res = await run(['validate', join(dir, 'bad')])
    expect(res.code).toBe(1)
    const lines = res.stdout.trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const line of lines) expect(line).toMatch(/[bc]\.yaml:\d+:\d+ /)
    expect(res.stdout).toMatch(/b\.yaml:4:\d+ .*integer/)
    expect(res.stdout).toMatch(/c\.yaml:4:\d+ .*nowhere/)
  })

  it('validate checks the repository examples', async () => {
    const res = await run(['validate'])
    expect(res.stdout).toBe('')
    expect(res.code).toBe(0)
  })

  it('token prints a token the server accepts, with the role asked for', async () => {
    const res = await run(['token', '--sub', 'carol', '--role', 'admin'], { GANTRY_JWT_SECRET: 'cli-secret' })
    expect(res.code).toBe(0)
    expect(verifyToken(res.stdout.trim(), { secret: 'cli-secret' })).toEqual({ id: 'carol', role: 'admin' })
    const bad = await run(['token', '--sub', 'carol', '--role', 'root'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--role must be user or admin')
  })

  it('serve prints a dev admin token, serves the examples, refuses a second owner of its data dir, and stops on SIGTERM', async () => {
    const dataDir = join(dir, 'data')
    const server = await serve({ GANTRY_DATA_DIR: dataDir, GANTRY_JWT_SECRET: '', GANTRY_MAX_WORKERS: '1' })
    try {
      const token = (await eventually(() => /\n\s+(eyJ\S+)\n/.exec(server.output())))[1]
      expect(token).toBeTruthy()
      const list = (await (await fetch(`${server.url}/api/abilities`)).json()) as {
        abilities: { id: string }[]
      }
      expect(list.abilities.map((a: { id: string }) => a.id)).toContain('demo.echo')
      const res = await fetch(`${server.url}/api/abilities/demo.echo/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { text: 'hello' } }),
      })
      expect(res.status).toBe(200)

      const second = await run(['serve'], { GANTRY_DATA_DIR: dataDir, PORT: '0', GANTRY_LOCK_WAIT: '300ms' })
      expect(second.code).toBe(1)
      expect(second.stderr).toContain(`in use by process ${server.child.pid}`)
    } finally {
      server.child.kill('SIGTERM')
    }
    const code = await new Promise((r) => server.child.on('exit', r))
    expect(code).toBe(0)
    expect(server.output()).toContain('gantry stopped')
  })
})

describe('gantry sweep', () => {
  it('fails tasks queued past their limit in the data dir of a stopped server, and says what it did', async () => {
    const { startGantry } = await import('../helpers.js')
    const g = await startGantry({
      files: {
        'a.yaml':
          'kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: 1\n---\nkind: Ability\nid: slow\nname: S\nexecutor: m\nqueueTimeout: 100ms\n',
      },
    })
    const running = await g.api('/api/ability-tasks', {
      body: { abilityId: 'slow', inputs: { delayMs: 400 } },
    })
    const queued = await g.api('/api/ability-tasks', { body: { abilityId: 'slow' } })
    // stopping with a task still queued leaves it in the store
    g.gantry.config.shutdownGraceMs = 50
    await g.stop({ keep: true })
    await new Promise((r) => setTimeout(r, 150))
    const env = {
      GANTRY_DATA_DIR: g.dataDir,
      GANTRY_ABILITIES_DIR: g.abilitiesDir,
      GANTRY_WORKFLOWS_DIR: join(g.root, 'workflows'),
      GANTRY_LOG_LEVEL: 'error',
    }
    const res = await run(['sweep'], env)
    expect(res.code).toBe(0)
    const report = JSON.parse(res.stdout)
    expect(report.queuedTimedOut).toBeGreaterThanOrEqual(1)
    const after = await startGantry({ root: g.root })
    try {
      expect((await after.api(`/api/ability-tasks/${queued.body.id}`)).body).toMatchObject({
        status: 'failed',
        errorCode: 'TIMEOUT',
      })
      void running
    } finally {
      await after.stop()
    }
  })
})
