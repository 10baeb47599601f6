/**
 * Gantry on PostgreSQL with one node, then with two nodes (two OS processes
 * sharing one database), beside pg-boss doing the same no-op work on the same
 * database, in one run: tasks/s (first submit to last end) and latency from
 * submit to start and from submit to end (p50, p99), then the ratios.
 *
 *   npm run bench:cluster                       (20,000 tasks each)
 *   npm run bench:cluster -- --tasks 2000       (fewer)
 *   npm run bench:cluster -- --runs 10          (the one-node measurement 10 times on one schema)
 *
 * The database is GANTRY_BENCH_PG, else GANTRY_TEST_PG, else
 * postgres://postgres@127.0.0.1:5432/test. Each measurement gets a fresh schema,
 * dropped after. Other GANTRY_* variables (GANTRY_PG_POOL, ...) reach every node.
 *
 * Tasks are submitted in-process (prepare, durable insert, start), as
 * POST /api/ability-tasks does minus HTTP; in the two-node case each node
 * submits half. A task's start and end are its `ability-task.status` events
 * (running, then an end state) on whichever node sees them, stamped in epoch
 * milliseconds (performance.timeOrigin + performance.now()) so that the two
 * processes' stamps compare. Nothing assumes where a task runs: today each
 * node runs what it accepted; with tasks claimed across the cluster the same
 * figures hold, and "ran on the other node" says how many crossed.
 *
 * pg-boss gets the same jobs through send() with the same number in flight and
 * the same pool size (10) as one Gantry node; its workers poll (0.5 s, its
 * minimum), so its submit-to-start includes that pick-up wait. A worker waits
 * out the interval even after a full batch, so workers x batch / 0.5 s caps its
 * rate: the default 8 x 500 leaves it bound by its submits instead
 * (--boss-workers, --boss-batch). Its end is the row's completed_on (pg-boss
 * completes a batch after the handler returns, without waiting).
 *
 * Options: --tasks N (20000), --runs N (1), --concurrency N (the executor's
 * maxConcurrency, 256), --boss-workers N (8), --boss-batch N (500).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import PgBoss from 'pg-boss'
import { loadConfig } from '../core/config.js'
import { createGantry, type Gantry } from '../core/gantry.js'
import { createLogger } from '../core/logger.js'
import { ENDED } from '../core/model/task.js'

const PG_URL =
  process.env.GANTRY_BENCH_PG || process.env.GANTRY_TEST_PG || 'postgres://postgres@127.0.0.1:5432/test'
/** Submits in flight, in all (split evenly between the nodes that submit). */
const SUBMITTERS = 256
/** pg-boss's polling interval: 0.5 s is its minimum. */
const BOSS_POLL_SECONDS = 0.5
/** Pool size of pg-boss, as a Gantry node's default (GANTRY_PG_POOL). */
const BOSS_POOL = 10
/** A measurement with no task ended for this long stops with what the database holds. */
const STALL_MS = 60_000

const args = parseArgs({
  options: {
    tasks: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '1' },
    // the no-op executor's maxConcurrency
    concurrency: { type: 'string', default: '256' },
    // pg-boss: workers, and jobs each fetches per poll
    'boss-workers': { type: 'string', default: '8' },
    'boss-batch': { type: 'string', default: '500' },
    // which measurements: any of one,two,boss (comma-separated)
    only: { type: 'string', default: 'one,two,boss' },
    // internal: this process is the second node
    node: { type: 'boolean', default: false },
    schema: { type: 'string' },
    root: { type: 'string' },
  },
}).values

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const freshName = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${raw}'`)
  return n
}

const CONCURRENCY = positive('concurrency', args.concurrency)
const BOSS_WORKERS = positive('boss-workers', args['boss-workers'])
const BOSS_BATCH = positive('boss-batch', args['boss-batch'])

// ---------------------------------------------------------------------------------------------
// what a node sees: submits, starts and ends, stamped

/** [task id, epoch ms] */
type Stamp = [string, number]
interface Observed {
  submits: Stamp[]
  starts: Stamp[]
  /** [task id, epoch ms, end status] */
  ends: [string, number, string][]
}

type ToChild = { type: 'submit'; count: number; inFlight: number } | { type: 'stop' }
type FromChild = { type: 'ready' } | { type: 'observed'; observed: Observed } | { type: 'stopped' }

const emptyObserved = (): Observed => ({ submits: [], starts: [], ends: [] })

/** Stamps a node's running and end events as they happen. */
function onStatus(
  gantry: Gantry,
  stamp: (kind: 'start' | 'end', id: string, at: number, status: string) => void,
) {
  return gantry.bus.on('ability-task.status', ({ task }) => {
    const at = now()
    if (task.status === 'running') stamp('start', task.id, at, task.status)
    else if (ENDED.has(task.status)) stamp('end', task.id, at, task.status)
  })
}

interface Seen {
  at: number
  node: number
}

/** Every node's stamps merged by task id; the earliest stamp wins when two nodes saw the same change. */
class Tally {
  readonly submitted = new Map<string, Seen>()
  readonly started = new Map<string, Seen>()
  readonly ended = new Map<string, Seen & { status: string }>()
  readonly done: Promise<void>
  private finish!: () => void

  constructor(readonly total: number) {
    this.done = new Promise((resolve) => (this.finish = resolve))
  }

  submit(id: string, at: number, node: number) {
    keepFirst(this.submitted, id, { at, node })
  }

  stamp(kind: 'start' | 'end', id: string, at: number, status: string, node: number) {
    if (kind === 'start') keepFirst(this.started, id, { at, node })
    else {
      keepFirst(this.ended, id, { at, node, status })
      if (this.ended.size >= this.total) this.finish()
    }
  }

  /** A batch of another process's stamps. */
  merge(observed: Observed, node: number) {
    for (const [id, at] of observed.submits) this.submit(id, at, node)
    for (const [id, at] of observed.starts) this.stamp('start', id, at, 'running', node)
    for (const [id, at, status] of observed.ends) this.stamp('end', id, at, status, node)
  }

  /** Resolves once every task ended; throws if none ended for STALL_MS. */
  async wait(explain: () => Promise<string>) {
    for (;;) {
      const before = this.ended.size
      const finished = await Promise.race([this.done.then(() => true), sleep(STALL_MS).then(() => false)])
      if (finished) return
      if (this.ended.size === before) {
        throw new Error(
          `stalled: ${this.ended.size} of ${this.total} tasks ended, none for ${STALL_MS / 1000} s; ${await explain()}`,
        )
      }
    }
  }
}

function keepFirst<T extends Seen>(map: Map<string, T>, id: string, seen: T) {
  const had = map.get(id)
  if (!had || seen.at < had.at) map.set(id, seen)
}

// ---------------------------------------------------------------------------------------------
// figures

interface Figures {
  tasks: number
  seconds: number
  tasksPerSecond: number
  startP50: number
  startP99: number
  endP50: number
  endP99: number
  /** Ended, but not succeeded. */
  failed: number
}

function pct(values: Float64Array, p: number) {
  if (values.length === 0) return Number.NaN
  return values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]
}

/** From per-task submit, start and end stamps (epoch ms). */
function figures(submits: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>, failed = 0) {
  const n = submits.length
  const toStart = new Float64Array(n)
  const toEnd = new Float64Array(n)
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (let i = 0; i < n; i++) {
    first = Math.min(first, submits[i])
    last = Math.max(last, ends[i])
    toStart[i] = starts[i] - submits[i]
    toEnd[i] = ends[i] - submits[i]
  }
  toStart.sort()
  toEnd.sort()
  const seconds = (last - first) / 1000
  return {
    tasks: n,
    seconds,
    tasksPerSecond: n / seconds,
    startP50: pct(toStart, 50),
    startP99: pct(toStart, 99),
    endP50: pct(toEnd, 50),
    endP99: pct(toEnd, 99),
    failed,
  } satisfies Figures
}

/** A tally's figures; every task must have been seen submitted, started and ended. */
function tallyFigures(tally: Tally): Figures {
  const ids = [...tally.submitted.keys()]
  const missing = ids.filter((id) => !tally.started.has(id) || !tally.ended.has(id))
  if (ids.length !== tally.total || missing.length) {
    throw new Error(
      `${ids.length} of ${tally.total} tasks seen submitted; ${missing.length} of them never seen started or ended`,
    )
  }
  const failed = [...tally.ended.values()].filter((e) => e.status !== 'succeeded').length
  return figures(
    ids.map((id) => tally.submitted.get(id)!.at),
    ids.map((id) => tally.started.get(id)!.at),
    ids.map((id) => tally.ended.get(id)!.at),
    failed,
  )
}

const ms = (n: number) => `${n.toFixed(1)} ms`
const rate = (n: number) => `${n.toFixed(0)} tasks/s`

function line(label: string, f: Figures, note = '') {
  return (
    `  ${label.padEnd(24)} ${rate(f.tasksPerSecond).padStart(13)}  ` +
    `submit-to-start p50 ${ms(f.startP50)}  p99 ${ms(f.startP99)}  ` +
    `submit-to-end p50 ${ms(f.endP50)}  p99 ${ms(f.endP99)}` +
    (f.failed ? `  (${f.failed} not succeeded)` : '') +
    note
  )
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

const dropSchema = (schema: string) =>
  withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined)

/** Gantry's tasks in `schema` by status, for a stall message. */
const taskCounts = (schema: string) =>
  withClient(async (c) => {
    const { rows } = await c.query(`SELECT status, count(*)::int AS n FROM "${schema}".tasks GROUP BY status`)
    return `the database holds ${rows.map((r) => `${r.n} ${r.status}`).join(', ') || 'no task'}`
  }).catch((err) => `the database could not be read (${(err as Error).message})`)

/** The URL without its password, for printing. */
function shownUrl(url: string) {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
}

// ---------------------------------------------------------------------------------------------
// Gantry nodes

async function startNode(root: string, name: string, schema: string): Promise<Gantry> {
  const config = loadConfig({
    ...process.env,
    GANTRY_STORE: PG_URL,
    GANTRY_PG_SCHEMA: schema,
    GANTRY_DATA_DIR: join(root, name),
    GANTRY_ABILITIES_DIR: join(root, 'abilities'),
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: 'bench',
    GANTRY_LOG_LEVEL: process.env.GANTRY_LOG_LEVEL || 'warn',
  })
  const gantry = await createGantry(config, createLogger(config.logLevel))
  await gantry.start({ listen: false })
  return gantry
}

/** Submits `count` no-op tasks with `inFlight` at once, stamping each just before it is prepared. */
async function submitMany(
  gantry: Gantry,
  count: number,
  inFlight: number,
  onSubmit: (id: string, at: number) => void,
) {
  const caller = { id: 'bench', role: 'user' as const }
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) {
        next++
        const at = now()
        const { task } = await gantry.tasks.prepare({
          caller,
          abilityId: 'noop',
          payload: { inputs: {} },
          priority: 0,
        })
        onSubmit(task.id, at)
        await gantry.tasks.accept(task)
      }
    }),
  )
}

/** Lone tasks, one after another: submit-to-start and submit-to-end with nothing queued. */
async function loneTasks(gantry: Gantry, count: number) {
  const starts: number[] = []
  const ends: number[] = []
  const caller = { id: 'bench', role: 'user' as const }
  for (let i = 0; i < count; i++) {
    const { task } = await gantry.tasks.prepare({
      caller,
      abilityId: 'noop',
      payload: { inputs: {} },
      priority: 0,
    })
    let started = 0
    const ended = new Promise<void>((resolve) => {
      const off = gantry.bus.on('ability-task.status', ({ task: t }) => {
        if (t.id !== task.id) return
        if (t.status === 'running') started = now()
        if (ENDED.has(t.status)) {
          off()
          ends.push(now() - at)
          resolve()
        }
      })
    })
    const at = now()
    await gantry.tasks.accept(task)
    await ended
    starts.push(started - at)
  }
  const p = (values: number[], q: number) =>
    [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]
  return { startP50: p(starts, 0.5), startP99: p(starts, 0.99), endP50: p(ends, 0.5), endP99: p(ends, 0.99) }
}

/** One measurement on a running node: `total` tasks submitted there, figures once all ended. */
async function oneNodeRun(gantry: Gantry, schema: string, total: number): Promise<Figures> {
  const tally = new Tally(total)
  const off = onStatus(gantry, (kind, id, at, status) => tally.stamp(kind, id, at, status, 1))
  try {
    await submitMany(gantry, total, SUBMITTERS, (id, at) => tally.submit(id, at, 1))
    await tally.wait(() => taskCounts(schema))
    return tallyFigures(tally)
  } finally {
    off()
  }
}

/** The second node: a child process that submits when told and streams what it sees to the parent. */
async function childNode() {
  if (!args.schema || !args.root || !process.send) throw new Error('--node is started by bench/cluster.ts')
  const send = (msg: FromChild) => process.send!(msg)
  const gantry = await startNode(args.root, 'node2', args.schema)
  let batch = emptyObserved()
  onStatus(gantry, (kind, id, at, status) => {
    if (kind === 'start') batch.starts.push([id, at])
    else batch.ends.push([id, at, status])
  })
  const flush = () => {
    const observed = batch
    batch = emptyObserved()
    if (observed.submits.length || observed.starts.length || observed.ends.length)
      send({ type: 'observed', observed })
  }
  const timer = setInterval(flush, 50)
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'submit') {
      submitMany(gantry, msg.count, msg.inFlight, (id, at) => batch.submits.push([id, at])).catch((err) => {
        console.error('node 2: submit failed:', err)
        process.exit(1)
      })
    } else if (msg.type === 'stop') {
      clearInterval(timer)
      flush()
      gantry.stop().then(() => {
        send({ type: 'stopped' })
        process.disconnect()
      })
    }
  })
  // the parent going away ends this node too
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref())
  send({ type: 'ready' })
}

function spawnNode(root: string, schema: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--node', '--schema', schema, '--root', root],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`node 2 exited (${code}) before it was ready`))
    child.once('exit', onExit)
    child.on('message', (msg: FromChild) => {
      if (msg.type !== 'ready') return
      child.off('exit', onExit)
      resolve(child)
    })
  })
}

/** Two nodes, this process and a child, on one fresh schema; each submits half. */
async function twoNodeRun(root: string, total: number) {
  const schema = freshName('gantry_bench')
  let node1: Gantry | undefined
  let child: ChildProcess | undefined
  try {
    // node 1 migrates the schema before node 2 opens it
    node1 = await startNode(root, 'node1', schema)
    child = await spawnNode(root, schema)
    const tally = new Tally(total)
    const off = onStatus(node1, (kind, id, at, status) => tally.stamp(kind, id, at, status, 1))
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`node 2 exited (${code}) during the run`))),
    )
    exited.catch(() => {})
    child.on('message', (msg: FromChild) => {
      if (msg.type === 'observed') tally.merge(msg.observed, 2)
    })
    const half = Math.floor(total / 2)
    child.send({ type: 'submit', count: total - half, inFlight: SUBMITTERS / 2 } satisfies ToChild)
    await submitMany(node1, half, SUBMITTERS / 2, (id, at) => tally.submit(id, at, 1))
    await Promise.race([tally.wait(() => taskCounts(schema)), exited])
    // node 2's last stamps come with its stop
    const stopped = new Promise<void>((resolve) =>
      child!.on('message', (msg: FromChild) => msg.type === 'stopped' && resolve()),
    )
    child.send({ type: 'stop' } satisfies ToChild)
    await Promise.race([stopped, exited])
    off()
    const result = tallyFigures(tally)
    let crossed = 0
    const ranOn = [0, 0]
    for (const [id, s] of tally.started) {
      ranOn[s.node - 1]++
      if (tally.submitted.get(id)?.node !== s.node) crossed++
    }
    return { ...result, ranOn, crossed }
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child!.once('exit', resolve))
      if (child.connected) child.disconnect()
      await Promise.race([gone, sleep(15_000)])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    await node1?.stop()
    await dropSchema(schema)
  }
}

// ---------------------------------------------------------------------------------------------
// pg-boss

async function bossRun(total: number): Promise<Figures> {
  const schema = freshName('pgboss_bench')
  const queue = 'noop'
  const boss = new PgBoss({
    connectionString: PG_URL,
    schema,
    max: BOSS_POOL,
    // no maintenance nor cron work during the measurement
    supervise: false,
    schedule: false,
  })
  boss.on('error', (err) => console.error('pg-boss:', err.message))
  await boss.start()
  try {
    await boss.createQueue(queue)
    const submitted = new Float64Array(total)
    const started = new Float64Array(total)
    let handled = 0
    let allHandled!: () => void
    const handledAll = new Promise<void>((resolve) => (allHandled = resolve))
    for (let w = 0; w < BOSS_WORKERS; w++) {
      await boss.work<{ i: number }>(
        queue,
        { batchSize: BOSS_BATCH, pollingIntervalSeconds: BOSS_POLL_SECONDS },
        async (jobs) => {
          const at = now()
          for (const job of jobs) started[job.data.i] = at
          handled += jobs.length
          if (handled >= total) allHandled()
        },
      )
    }
    let next = 0
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (next < total) {
          const i = next++
          submitted[i] = now()
          await boss.send(queue, { i })
        }
      }),
    )
    const stalled = sleep(STALL_MS * 5).then(() => {
      throw new Error(`pg-boss: ${handled} of ${total} jobs handled after ${(STALL_MS * 5) / 1000} s`)
    })
    stalled.catch(() => {})
    await Promise.race([handledAll, stalled])
    // the completions go out after the handler returns; their rows say when each ended
    const ended = new Float64Array(total)
    await withClient(async (c) => {
      for (;;) {
        const { rows } = await c.query(
          `SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND state = 'completed'`,
          [queue],
        )
        if (rows[0].n >= total) break
        await sleep(20)
      }
      const { rows } = await c.query(
        `SELECT (data->>'i')::int AS i, extract(epoch FROM completed_on)::float8 * 1000 AS at
           FROM "${schema}".job WHERE name = $1`,
        [queue],
      )
      for (const row of rows) ended[row.i] = row.at
    })
    return figures(submitted, started, ended)
  } finally {
    await boss.stop({ graceful: true, wait: true, timeout: 5000 })
    await dropSchema(schema)
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const total = positive('tasks', args.tasks)
  const runs = positive('runs', args.runs)
  const bossVersion = createRequire(import.meta.url)('pg-boss/package.json').version as string
  const serverVersion = await withClient(
    async (c) => (await c.query('SHOW server_version')).rows[0].server_version,
  )
  console.log(
    `${total} no-op tasks per measurement on PostgreSQL ${serverVersion} (${shownUrl(PG_URL)}), ` +
      `${SUBMITTERS} submits in flight, a fresh schema each`,
  )
  console.log(`  gantry: mock provider, executor maxConcurrency ${CONCURRENCY}`)
  console.log(
    `  pg-boss ${bossVersion}: send(), ${BOSS_WORKERS} workers x batchSize ${BOSS_BATCH}, ` +
      `pollingIntervalSeconds ${BOSS_POLL_SECONDS} (its minimum; a worker waits out the interval even after a full batch, ` +
      `so at most ${(BOSS_WORKERS * BOSS_BATCH) / BOSS_POLL_SECONDS} jobs/s), pool ${BOSS_POOL}`,
  )

  const root = await mkdtemp(join(tmpdir(), 'gantry-bench-cluster-'))
  await mkdir(join(root, 'abilities'))
  await writeFile(
    join(root, 'abilities/noop.yaml'),
    `kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: ${CONCURRENCY}\n---\nkind: Ability\nid: noop\nname: No-op\nexecutor: m\n`,
  )
  try {
    const only = new Set(args.only.split(','))
    // (a) one node; with --runs, again and again on the same schema
    const oneRuns: Figures[] = []
    if (only.has('one')) {
      const schema = freshName('gantry_bench')
      try {
        const gantry = await startNode(root, 'single', schema)
        try {
          const lone = await loneTasks(gantry, 200)
          console.log(
            `  gantry, one node, 200 lone tasks  submit-to-start p50 ${lone.startP50.toFixed(2)} ms (target < 5 ms)  ` +
              `p99 ${lone.startP99.toFixed(2)} ms  submit-to-end p50 ${lone.endP50.toFixed(2)} ms  p99 ${lone.endP99.toFixed(2)} ms`,
          )
          for (let r = 1; r <= runs; r++) {
            const f = await oneNodeRun(gantry, schema, total)
            oneRuns.push(f)
            const label = runs > 1 ? `gantry, one node, run ${r}` : 'gantry, one node'
            console.log(line(label, f))
          }
        } finally {
          await gantry.stop()
        }
      } finally {
        await dropSchema(schema)
      }
    }
    const one = oneRuns[0]

    // (b) two nodes, two processes, one database
    const two = only.has('two') ? await twoNodeRun(root, total) : undefined
    if (two) {
      console.log(
        line(
          'gantry, two nodes',
          two,
          `  (started on node 1: ${two.ranOn[0]}, node 2: ${two.ranOn[1]}; ran on the other node: ${two.crossed})`,
        ),
      )
    }

    // (c) pg-boss
    const boss = only.has('boss') ? await bossRun(total) : undefined
    if (boss) console.log(line(`pg-boss ${bossVersion}`, boss))

    if (one && two)
      console.log(
        `  two nodes / one node     ${(two.tasksPerSecond / one.tasksPerSecond).toFixed(2)}x (target: above 1)`,
      )
    if (one && boss)
      console.log(
        `  one node / pg-boss       ${(one.tasksPerSecond / boss.tasksPerSecond).toFixed(2)}x (target: above 1)`,
      )
    if (runs > 1 && oneRuns.length) {
      const rates = oneRuns.map((f) => f.tasksPerSecond)
      console.log(
        `  one node over ${runs} runs on one schema (${runs * total} tasks stored): ` +
          `${rates.map((r) => r.toFixed(0)).join(', ')} tasks/s; ` +
          `last / first ${(rates[rates.length - 1] / rates[0]).toFixed(2)}, min / first ${(Math.min(...rates) / rates[0]).toFixed(2)}`,
      )
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (args.node) await childNode()
else await main()
