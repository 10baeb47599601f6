/**
 * The sync invoke of the mock provider over real HTTP, beside a bare Hono
 * route answering the same JSON, in the same run; then RSS after 100,000
 * calls with their logs kept.
 *
 *   npm run bench            (BENCH_SECONDS=10 BENCH_CONNECTIONS=50 by default)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signToken } from '../core/auth/jwt.js'
import { load, mb, spawnServer } from './lib.js'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const totalCalls = Number(process.env.BENCH_TOTAL_CALLS ?? 100_000)
const secret = 'bench-secret'
const body = JSON.stringify({ inputs: { text: 'hello' } })

const root = await mkdtemp(join(tmpdir(), 'gantry-bench-'))
await mkdir(join(root, 'abilities'))
await writeFile(
  join(root, 'abilities/bench.yaml'),
  'kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: 256\n---\nkind: Ability\nid: echo\nname: Echo\nexecutor: m\n',
)

const bare = await spawnServer(['bench/bare-hono.ts'])
const bareResult = await load({ url: `${bare.url}/api/abilities/echo/invoke`, body, connections, seconds })
await bare.stop()

const floor = await spawnServer(['bench/piscina-floor.ts'])
const floorResult = await load({ url: `${floor.url}/api/abilities/echo/invoke`, body, connections, seconds })
await floor.stop()

const gantry = await spawnServer(['core/cli/main.ts', 'serve'], {
  PORT: '0',
  GANTRY_DATA_DIR: join(root, 'data'),
  GANTRY_ABILITIES_DIR: join(root, 'abilities'),
  GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
  GANTRY_JWT_SECRET: secret,
  GANTRY_LOG_LEVEL: 'info',
})
const token = signToken({ sub: 'bench', role: 'admin' }, { secret, ttlSeconds: 3600 })
const headers = { authorization: `Bearer ${token}` }
const invokeUrl = `${gantry.url}/api/abilities/echo/invoke`
const gantryResult = await load({ url: invokeUrl, body, headers, connections, seconds })

// keep calling until 100,000 calls (each with its log) have been made, then read the server's RSS
let calls = gantryResult.requests
while (calls < totalCalls) {
  const more = await load({ url: invokeUrl, body, headers, connections, seconds: 5 })
  calls += more.requests
}
const metrics = await (await fetch(`${gantry.url}/metrics`)).text()
const rss = Number(/process_resident_memory_bytes (\d+)/.exec(metrics)?.[1] ?? 0)
const heap = Number(/nodejs_heap_used_bytes (\d+)/.exec(metrics)?.[1] ?? 0)
await gantry.stop()
await rm(root, { recursive: true, force: true })

const ratio = gantryResult.rps / bareResult.rps
const p99Ratio = gantryResult.p99 / Math.max(bareResult.p99, 1)
console.log(`sync invoke, ${connections} connections, ${seconds} s each`)
console.log(`  bare hono      ${bareResult.rps} req/s  p50 ${bareResult.p50} ms  p99 ${bareResult.p99} ms`)
console.log(
  `  gantry invoke  ${gantryResult.rps} req/s  p50 ${gantryResult.p50} ms  p99 ${gantryResult.p99} ms  (non-2xx ${gantryResult.non2xx}, errors ${gantryResult.errors})`,
)
console.log(
  `  ratio          ${ratio.toFixed(2)} of bare req/s (target >= 0.50), p99 ${p99Ratio.toFixed(2)}x (target <= 3)`,
)
console.log(
  `  hono + piscina ${floorResult.rps} req/s  p50 ${floorResult.p50} ms  p99 ${floorResult.p99} ms  (a no-op worker task per request)`,
)
console.log(`  ratio to hono + piscina ${(gantryResult.rps / floorResult.rps).toFixed(2)}`)
console.log(`  after ${calls} calls with logs kept: RSS ${mb(rss)}, heap used ${mb(heap)}`)
