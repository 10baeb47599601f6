/**
 * 1. The `http` provider against a local server answering at once, beside
 *    undici calling that server directly, in the same run (64 calls in flight).
 * 2. The `image` provider: 1024x1024 white-background jobs with 1 worker and
 *    with all workers, to show the pool scales.
 *
 *   npm run bench:providers     (BENCH_SECONDS=5 BENCH_IMAGES=40)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { Agent, request } from 'undici'
import { loadConfig } from '../core/config.js'
import { createGantry } from '../core/gantry.js'
import { createLogger } from '../core/logger.js'
import { prepareCall } from '../core/run/prepare-call.js'
import { runCall } from '../core/run/run-call.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const IMAGES = Number(process.env.BENCH_IMAGES ?? 40)
const IN_FLIGHT = 64
const caller = { id: 'bench', role: 'admin' as const }

async function startGantry(root: string, workers: number) {
  const config = loadConfig({
    GANTRY_DATA_DIR: join(root, `data-${workers}-${Date.now()}`),
    GANTRY_ABILITIES_DIR: join(root, 'abilities'),
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: 'bench',
    GANTRY_LOG_LEVEL: 'warn',
    GANTRY_MAX_WORKERS: String(workers),
  })
  const gantry = await createGantry(config, createLogger('warn'))
  await gantry.start({ listen: false })
  return gantry
}

type Started = Awaited<ReturnType<typeof startGantry>>
const providersOf = (gantry: Started) => gantry.providers
const runnerOf = (gantry: Started) => gantry.runner

/** Runs `op` with IN_FLIGHT at once for SECONDS; calls per second. */
async function rate(op: () => Promise<unknown>) {
  let done = 0
  const end = performance.now() + SECONDS * 1000
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await op()
        done++
      }
    }),
  )
  return done / SECONDS
}

const root = await mkdtemp(join(tmpdir(), 'gantry-bench-providers-'))
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end('{"data":{"text":"ok"}}')
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
await mkdir(join(root, 'abilities'))
await writeFile(
  join(root, 'abilities/bench.yaml'),
  `kind: Executor
id: rest
provider: http
maxConcurrency: 256
config: { baseUrl: "${origin}" }
---
kind: Ability
id: rest.call
executor: rest
config:
  request: { method: POST, url: /v1/run, json: { n: "{{inputs.n}}" } }
  response: { texts: data.text }
---
kind: Executor
id: img
provider: image
maxConcurrency: 64
timeout: 2m
---
kind: Ability
id: img.clean
executor: img
config: { operation: white_background }
`,
)

try {
  // 1. http provider beside undici
  const agent = new Agent({ connections: IN_FLIGHT })
  const direct = await rate(async () => {
    const res = await request(`${origin}/v1/run`, {
      method: 'POST',
      dispatcher: agent,
      body: '{"n":1}',
      headers: { 'content-type': 'application/json' },
    })
    await res.body.json()
  })
  await agent.close()
  const gantry = await startGantry(root, availableParallelism())
  const call = () =>
    prepareCall(gantry.definitions.current(), providersOf(gantry), 'rest.call', { inputs: { n: 1 } }, caller)
  const viaGantry = await rate(() => runCall(runnerOf(gantry), call(), { caller }))
  await gantry.stop()
  console.log(`http provider, ${IN_FLIGHT} calls in flight, ${SECONDS} s each`)
  console.log(`  undici directly   ${direct.toFixed(0)} calls/s`)
  console.log(`  through Gantry    ${viaGantry.toFixed(0)} calls/s (pool, scheduler, log per call)`)
  console.log(`  ratio             ${(viaGantry / direct).toFixed(2)} (target >= 0.60)`)

  // 2. image provider with 1 worker and with all
  const picture = await sharp({
    create: { width: 1024, height: 1024, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([
      {
        input: await sharp({
          create: { width: 400, height: 500, channels: 3, background: { r: 200, g: 30, b: 30 } },
        })
          .png()
          .toBuffer(),
        top: 262,
        left: 312,
      },
    ])
    .png()
    .toBuffer()
  const imageBase64 = picture.toString('base64')
  const results: string[] = []
  for (const workers of [1, availableParallelism()]) {
    const g = await startGantry(root, workers)
    const t0 = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next++ < IMAGES) {
          const response = await runCall(
            runnerOf(g),
            prepareCall(g.definitions.current(), providersOf(g), 'img.clean', { imageBase64 }, caller),
            { caller },
          )
          if (response.status !== 'succeeded') throw new Error(`image job failed: ${response.error?.message}`)
        }
      }),
    )
    results.push(
      `  ${workers} worker${workers > 1 ? 's' : ' '}  ${(IMAGES / ((performance.now() - t0) / 1000)).toFixed(1)} images/s`,
    )
    await g.stop()
  }
  console.log(`image provider, ${IMAGES} white-background jobs on 1024x1024 PNGs, 8 in flight`)
  for (const line of results) console.log(line)
} finally {
  server.close()
  await rm(root, { recursive: true, force: true })
}
