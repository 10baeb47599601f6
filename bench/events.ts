/**
 * 1. 1,000 SSE clients (one user each) connected to a real Gantry over HTTP
 *    while tasks produce 1,000 status events a second: delivery latency p50/p99
 *    and the server's RSS over the run.
 * 2. Tasks with a large input (BENCH_BIG_TASKS of BENCH_BIG_MB each): the server's
 *    RSS, then BENCH_BIG_STREAMS streams of their user replaying from id 0 at
 *    once, and how long `/healthz` takes to answer meanwhile.
 * 3. 10,000 priced tasks through the ledger beside 10,000 unpriced ones.
 *
 *   npm run bench:events      (BENCH_CLIENTS=1000 BENCH_RATE=1000 BENCH_SECONDS=60 BENCH_TASKS=10000
 *                              BENCH_BIG_TASKS=6 BENCH_BIG_MB=1 BENCH_BIG_STREAMS=60)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { signToken } from '../core/auth/jwt.js'
import { loadConfig } from '../core/config.js'
import { createGantry } from '../core/gantry.js'
import { createLogger } from '../core/logger.js'
import type { AbilityTask } from '../core/model/task.js'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000)
const RATE = Number(process.env.BENCH_RATE ?? 1000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60)
const TASKS = Number(process.env.BENCH_TASKS ?? 10_000)
const BIG_TASKS = Number(process.env.BENCH_BIG_TASKS ?? 6)
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 1)
const BIG_STREAMS = Number(process.env.BENCH_BIG_STREAMS ?? 60)
const SECRET = 'bench-secret'

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

async function startGantry(root: string) {
  const config = loadConfig({
    PORT: '0',
    GANTRY_DATA_DIR: join(root, `data-${Date.now()}`),
    GANTRY_ABILITIES_DIR: join(root, 'abilities'),
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: SECRET,
    GANTRY_LOG_LEVEL: 'warn',
  })
  const gantry = await createGantry(config, createLogger('warn'))
  await gantry.start()
  return gantry
}

async function sseRun(root: string) {
  const gantry = await startGantry(root)
  const agent = new Agent({ connections: CLIENTS + 10, pipelining: 0 })
  const latencies: number[] = []
  let received = 0
  let refused = 0
  const connected = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const token = signToken({ sub: `user-${i}`, role: 'user' }, { secret: SECRET })
      const res = await request(`${gantry.url}/api/notify/v1/stream`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}` },
      }).catch(() => undefined)
      // on a busy machine a connection may time out: counted, not fatal
      if (!res) {
        refused++
        return undefined
      }
      let buffer = ''
      // a reset under load ends that client's count, not the run
      res.body.on('error', () => {})
      res.body.setEncoding('utf8')
      res.body.on('data', (chunk: string) => {
        buffer += chunk
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = /^data: (.*)$/m.exec(frame)?.[1]
          if (data) {
            // the task's createdAt is when it was emitted: a status event carries it, whole task or summary
            const sentAt = Date.parse(JSON.parse(data).payload?.createdAt)
            if (Number.isFinite(sentAt)) {
              latencies.push(Date.now() - sentAt)
              received++
            }
          }
          end = buffer.indexOf('\n\n')
        }
      })
      return res
    }),
  )
  const streams = connected.filter((res) => res !== undefined)

  // status events as tasks produce them, spread over the clients' users
  const rss: number[] = []
  const heap: number[] = []
  const perTick = Math.max(1, Math.round(RATE / 100))
  let sent = 0
  const started = Date.now()
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (let i = 0; i < perTick; i++, sent++) {
        const task = {
          id: `t-${sent}`,
          seq: sent,
          abilityId: 'noop',
          executorId: 'm',
          userId: `user-${sent % CLIENTS}`,
          status: 'running',
          priority: 0,
          progress: 50,
          attempts: 1,
          payload: { inputs: {} },
          createdAt: Date.now(),
        } satisfies AbilityTask
        gantry.bus.emit('ability-task.status', { task })
      }
      if (sent % RATE < perTick) {
        // with --expose-gc, what stays alive after a full collection, beside RSS
        ;(globalThis as { gc?: () => void }).gc?.()
        rss.push(process.memoryUsage.rss())
        heap.push(process.memoryUsage().heapUsed)
      }
      if (Date.now() - started >= SECONDS * 1000) {
        clearInterval(timer)
        resolve()
      }
    }, 10)
  })
  await new Promise((r) => setTimeout(r, 500))
  for (const res of streams) res.body.destroy()
  await agent.close()
  await gantry.stop()
  return { sent, received, refused, p50: pct(latencies, 50), p99: pct(latencies, 99), rss, heap }
}

/** Reads an SSE stream until the frame of event `lastId` has ended; returns the bytes read. */
async function drain(res: Awaited<ReturnType<typeof request>>, lastId: number) {
  const marker = `id: ${lastId}\n`
  let bytes = 0
  let tail = ''
  let inLast = false
  try {
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length
      const text = tail + (chunk as Buffer).toString('utf8')
      if (!inLast) {
        const at = text.indexOf(marker)
        if (at !== -1) {
          inLast = true
          if (text.indexOf('\n\n', at) !== -1) break
        }
      } else if (text.includes('\n\n')) break
      tail = text.slice(-marker.length)
    }
  } catch {
    // the server cut the stream off before the end of the replay
    return { bytes, complete: false }
  }
  res.body.destroy()
  return { bytes, complete: true }
}

async function bigRun(root: string) {
  const gantry = await startGantry(root)
  const agent = new Agent({ connections: BIG_STREAMS + 10, pipelining: 0 })
  const token = signToken({ sub: 'big-user', role: 'user' }, { secret: SECRET })
  const input = 'x'.repeat(Math.round(BIG_MB * 1024 * 1024))
  ;(globalThis as { gc?: () => void }).gc?.()
  const rssBefore = process.memoryUsage.rss()
  let lastId: number
  for (let i = 0; i < BIG_TASKS; i++) {
    for (const status of ['queued', 'running', 'succeeded'] as const) {
      const task = {
        id: `big-${i}`,
        seq: i,
        abilityId: 'noop',
        executorId: 'm',
        userId: 'big-user',
        status,
        priority: 0,
        progress: status === 'succeeded' ? 100 : 0,
        attempts: 1,
        payload: { inputs: { prompt: input } },
        ...(status === 'succeeded' ? { resultPayload: { texts: [input] } as never } : {}),
        createdAt: Date.now(),
      } satisfies AbilityTask
      gantry.bus.emit('ability-task.status', { task })
    }
  }
  // a fresh data dir: these are the only events, numbered from 1
  lastId = BIG_TASKS * 3
  await new Promise((r) => setTimeout(r, 1500))
  ;(globalThis as { gc?: () => void }).gc?.()
  const rssAfter = process.memoryUsage.rss()

  // every stream replays the whole window; /healthz is asked every 50 ms meanwhile
  const healthz: number[] = []
  let replaying = true
  let healthzFailed = 0
  const probe = (async () => {
    while (replaying) {
      const t0 = performance.now()
      try {
        const res = await request(`${gantry.url}/healthz`)
        await res.body.dump()
        healthz.push(performance.now() - t0)
      } catch {
        healthzFailed++
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  const t0 = performance.now()
  const replays = await Promise.all(
    Array.from({ length: BIG_STREAMS }, async () => {
      try {
        const res = await request(`${gantry.url}/api/notify/v1/stream`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, 'last-event-id': '0' },
        })
        return await drain(res, lastId)
      } catch {
        return { bytes: 0, complete: false }
      }
    }),
  )
  const replayMs = performance.now() - t0
  replaying = false
  await probe
  const rssPeak = process.memoryUsage.rss()
  await agent.close()
  await gantry.stop()
  const complete = replays.filter((r) => r.complete)
  const perEvent = complete.length ? complete[0].bytes / (BIG_TASKS * 3) : Number.NaN
  return {
    rssBefore,
    rssAfter,
    rssPeak,
    replayMs,
    perEvent,
    healthz,
    healthzFailed,
    complete: complete.length,
  }
}

async function ledgerRun(root: string, abilityId: string) {
  const gantry = await startGantry(root)
  const caller = { id: 'payer', role: 'user' as const }
  await gantry.store.ledger.grant('payer', TASKS * 10, 'bench', 'bench')
  let done = 0
  let finish!: () => void
  const ended = new Promise<void>((resolve) => (finish = resolve))
  gantry.bus.on('ability-task.status', ({ task }) => {
    if ((task.status === 'succeeded' || task.status === 'failed') && ++done === TASKS) finish()
  })
  const t0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next++ < TASKS) {
        const { task } = await gantry.tasks.prepare({
          caller,
          abilityId,
          payload: { inputs: {} },
          priority: 0,
        })
        await gantry.tasks.accept(task)
      }
    }),
  )
  await ended
  const tasksPerSecond = TASKS / ((performance.now() - t0) / 1000)
  const wallet = await gantry.store.ledger.wallet('payer')
  await gantry.stop()
  return { tasksPerSecond, wallet }
}

const root = await mkdtemp(join(tmpdir(), 'gantry-bench-events-'))
await mkdir(join(root, 'abilities'))
await writeFile(
  join(root, 'abilities/noop.yaml'),
  `kind: Executor
id: m
provider: mock
maxConcurrency: 64
---
kind: Ability
id: noop
name: No-op
executor: m
---
kind: Ability
id: noop-priced
name: No-op, priced
executor: m
pricing: { base: 3 }
`,
)
try {
  const sse = await sseRun(root)
  const growth = sse.rss.length > 2 ? sse.rss.at(-1)! - sse.rss[1] : 0
  console.log(
    `${CLIENTS} SSE clients (${sse.refused} could not connect), ${RATE} status events/s for ${SECONDS} s (one user per client)`,
  )
  console.log(
    `  delivered ${sse.received} of ${sse.sent}; latency p50 ${sse.p50.toFixed(1)} ms, p99 ${sse.p99.toFixed(1)} ms (target p99 < 100 ms)`,
  )
  console.log(
    `  RSS (server and clients in one process): start ${mb(sse.rss[0] ?? 0)}, after 1 s ${mb(sse.rss[1] ?? 0)}, end ${mb(sse.rss.at(-1) ?? 0)}, growth ${mb(growth)}`,
  )
  if (sse.heap.length > 2) {
    const mid = sse.heap[Math.floor(sse.heap.length / 2)]
    console.log(
      `  live heap after a full GC each second (run with --expose-gc): after 1 s ${mb(sse.heap[1])}, half-way ${mb(mid)}, end ${mb(sse.heap.at(-1)!)}`,
    )
  }

  const big = await bigRun(root)
  console.log(
    `${BIG_TASKS} tasks with a ${BIG_MB} MB input (3 status events each), ${BIG_STREAMS} streams replaying`,
  )
  console.log(
    `  RSS before ${mb(big.rssBefore)}, after the events ${mb(big.rssAfter)}, after the replays ${mb(big.rssPeak)}`,
  )
  console.log(
    `  replay ${(big.perEvent / 1024).toFixed(1)} KB per event per stream, ${big.complete} of ${BIG_STREAMS} replays complete in ${big.replayMs.toFixed(0)} ms; /healthz max ${Math.max(0, ...big.healthz).toFixed(0)} ms, p50 ${pct(big.healthz, 50).toFixed(0)} ms (${big.healthz.length} probes, ${big.healthzFailed} failed)`,
  )

  const free = await ledgerRun(root, 'noop')
  const priced = await ledgerRun(root, 'noop-priced')
  console.log(`${TASKS} tasks through the ledger`)
  console.log(
    `  unpriced ${free.tasksPerSecond.toFixed(0)} tasks/s, priced ${priced.tasksPerSecond.toFixed(0)} tasks/s`,
  )
  console.log(
    `  ratio ${(priced.tasksPerSecond / free.tasksPerSecond).toFixed(2)} (target >= 0.80); wallet after: ${JSON.stringify(priced.wallet)}`,
  )
} finally {
  await rm(root, { recursive: true, force: true })
}
