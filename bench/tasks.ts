/**
 * 20,000 no-op tasks (mock provider, executor maxConcurrency 64) through
 * Gantry's embedded store, beside BullMQ on the local Redis doing the same
 * no-op work (one Worker, concurrency 64), in the same run; then the latency
 * of a lone task, and the time to ready on a store holding 100,000 ended tasks.
 * Gantry runs once per durability setting (GANTRY_DURABILITY): `interval`
 * answers once written, `fsync` once fsynced; the difference is the cost of the latter.
 *
 *   npm run bench:tasks      (BENCH_TASKS=20000, BENCH_STORED=100000, REDIS_URL=redis://127.0.0.1:6379,
 *                             BENCH_DURABILITY=interval,fsync)
 *
 * Tasks are submitted in-process through the same code as POST /api/ability-tasks
 * minus HTTP (prepare, durable insert, start), as BullMQ's Queue.add is.
 */
import { execSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue, Worker } from 'bullmq'
import { loadConfig } from '../core/config.js'
import { createGantry, type Gantry } from '../core/gantry.js'
import { createLogger } from '../core/logger.js'
import type { AbilityTask } from '../core/model/task.js'
import { createLowdbStore } from '../core/store/lowdb/index.js'

const TASKS = Number(process.env.BENCH_TASKS ?? 20_000)
const STORED = Number(process.env.BENCH_STORED ?? 100_000)
const CONCURRENCY = 64
const SUBMITTERS = 256
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const DURABILITIES = (process.env.BENCH_DURABILITY ?? 'interval,fsync').split(',').map((d) => d.trim())

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}
const ms = (n: number) => `${n.toFixed(2)} ms`
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

function peakRss() {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50)
  return () => {
    clearInterval(timer)
    return peak
  }
}

/** Runs `count` jobs through `submit` with `SUBMITTERS` in flight; resolves with per-job submit-to-end latencies. */
async function drive(count: number, submit: (i: number) => Promise<void>, ended: Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: SUBMITTERS }, async () => {
      while (next < count) await submit(next++)
    }),
  )
  await ended
}

async function gantryRun(root: string, durability: string) {
  const config = loadConfig({
    GANTRY_DURABILITY: durability,
    GANTRY_DATA_DIR: join(root, `data-${durability}`),
    GANTRY_ABILITIES_DIR: join(root, 'abilities'),
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: 'bench',
    GANTRY_LOG_LEVEL: 'warn',
  })
  const gantry = await createGantry(config, createLogger('warn'))
  await gantry.start({ listen: false })
  const caller = { id: 'bench', role: 'user' as const }
  const submitted = new Map<string, number>()
  const latencies: number[] = []
  let done = 0
  let finish!: () => void
  let total = TASKS
  let ended = new Promise<void>((resolve) => (finish = resolve))
  gantry.bus.on('ability-task.status', ({ task }) => {
    if (task.status !== 'succeeded' && task.status !== 'failed') return
    latencies.push(performance.now() - (submitted.get(task.id) ?? 0))
    if (++done === total) finish()
  })
  const submit = async () => {
    const { task } = await gantry.tasks.prepare({
      caller,
      abilityId: 'noop',
      payload: { inputs: {} },
      priority: 0,
    })
    submitted.set(task.id, performance.now())
    await gantry.tasks.accept(task)
  }

  const rss = peakRss()
  const t0 = performance.now()
  await drive(TASKS, submit, ended)
  const seconds = (performance.now() - t0) / 1000
  const burst = {
    tasksPerSecond: TASKS / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    peakRss: rss(),
  }

  // a lone task: submit, wait for its end, again
  const lone: number[] = []
  for (let i = 0; i < 300; i++) {
    latencies.length = 0
    done = 0
    total = 1
    ended = new Promise<void>((resolve) => (finish = resolve))
    await submit()
    await ended
    lone.push(latencies[0])
  }
  await gantry.stop()
  const storeBytes = Number(
    execSync(`du -sb ${join(root, `data-${durability}`)}`)
      .toString()
      .split('\t')[0],
  )
  return { ...burst, loneP50: pct(lone.slice(20), 50), storeBytes }
}

async function bullmqRun() {
  const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) }
  const name = `gantry-bench-${randomUUID()}`
  const queue = new Queue(name, { connection })
  const latencies: number[] = []
  let done = 0
  let finish!: () => void
  const ended = new Promise<void>((resolve) => (finish = resolve))
  const worker = new Worker(name, async () => 'ok', { connection, concurrency: CONCURRENCY })
  worker.on('completed', (job) => {
    latencies.push((job.finishedOn ?? Date.now()) - job.timestamp)
    if (++done === TASKS) finish()
  })
  await worker.waitUntilReady()
  const t0 = performance.now()
  await drive(TASKS, async (i) => void (await queue.add('noop', { i }, { removeOnComplete: true })), ended)
  const seconds = (performance.now() - t0) / 1000
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  return { tasksPerSecond: TASKS / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) }
}

/** Fills a store with ended tasks directly, then times a full start on it. */
async function timeToReady(root: string) {
  const dataDir = join(root, 'stored')
  const store = createLowdbStore(dataDir)
  await store.open()
  const now = Date.now()
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < STORED; i++) {
    const task: AbilityTask = {
      id: randomUUID(),
      seq: 0,
      abilityId: 'noop',
      executorId: 'm',
      userId: `user-${i % 100}`,
      status: 'succeeded',
      priority: 0,
      progress: 100,
      attempts: 1,
      payload: { inputs: { i } },
      logId: randomUUID(),
      resultPayload: {
        status: 'succeeded',
        logId: randomUUID(),
        durationMs: 1,
        attempts: 1,
        images: [],
        videos: [],
        texts: [`{"i":${i}}`],
        assets: [],
        cost: { points: 0 },
        raw: { mock: true },
      },
      createdAt: now,
      startedAt: now,
      finishedAt: now,
    }
    writes.push(store.tasks.insert(task))
    if (writes.length >= 5000) await Promise.all(writes.splice(0))
  }
  await Promise.all(writes)
  await store.close()
  const config = loadConfig({
    GANTRY_DATA_DIR: dataDir,
    GANTRY_ABILITIES_DIR: join(root, 'abilities'),
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: 'bench',
    GANTRY_LOG_LEVEL: 'warn',
  })
  const t0 = performance.now()
  const gantry: Gantry = await createGantry(config, createLogger('warn'))
  await gantry.start({ listen: false })
  const seconds = (performance.now() - t0) / 1000
  const page = await gantry.store.tasks.list({ limit: 1 })
  await gantry.stop()
  if (page.items.length !== 1) throw new Error('the restarted store lists no task')
  return seconds
}

const root = await mkdtemp(join(tmpdir(), 'gantry-bench-tasks-'))
await mkdir(join(root, 'abilities'))
await writeFile(
  join(root, 'abilities/noop.yaml'),
  `kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: ${CONCURRENCY}\n---\nkind: Ability\nid: noop\nname: No-op\nexecutor: m\n`,
)
try {
  const gantry: [string, Awaited<ReturnType<typeof gantryRun>>][] = []
  for (const durability of DURABILITIES) gantry.push([durability, await gantryRun(root, durability)])
  const bull = await bullmqRun()
  const ready = await timeToReady(root)
  console.log(`${TASKS} no-op tasks, executor maxConcurrency ${CONCURRENCY}, ${SUBMITTERS} submits in flight`)
  for (const [durability, run] of gantry) {
    console.log(
      `  gantry (embedded store, GANTRY_DURABILITY=${durability})  ${run.tasksPerSecond.toFixed(0)} tasks/s  submit-to-end p50 ${ms(run.p50)}  p99 ${ms(run.p99)}  peak RSS ${mb(run.peakRss)}  store on disk ${mb(run.storeBytes)}`,
    )
  }
  console.log(
    `  bullmq (local redis)     ${bull.tasksPerSecond.toFixed(0)} jobs/s   add-to-completed p50 ${ms(bull.p50)}  p99 ${ms(bull.p99)}`,
  )
  const interval = gantry.find(([d]) => d === 'interval')?.[1] ?? gantry[0][1]
  console.log(
    `  ratio                    ${(interval.tasksPerSecond / bull.tasksPerSecond).toFixed(2)} (interval; target: ahead of BullMQ, >= 12,000 tasks/s)`,
  )
  for (const [durability, run] of gantry) {
    console.log(`  lone task submit-to-end p50 ${ms(run.loneP50)} with ${durability} (target < 5 ms)`)
  }
  console.log(`  ready with ${STORED} stored ended tasks: ${ready.toFixed(2)} s (target < 3 s)`)
} finally {
  await rm(root, { recursive: true, force: true })
}
