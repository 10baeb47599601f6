/**
 * 1,000 workflow jobs of 5 no-op steps (one, then a fan-out of 3 in parallel,
 * then one), beside the same number of plain tasks (5,000), in the same run:
 * jobs/s, p99 job latency, and what a step costs beside a plain task.
 *
 *   npm run bench:workflows      (BENCH_JOBS=1000)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../core/config.js'
import { createGantry } from '../core/gantry.js'
import { createLogger } from '../core/logger.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 1000)
const STEPS = 5
const IN_FLIGHT = 64

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function startGantry(root: string, name: string) {
  const config = loadConfig({
    GANTRY_DATA_DIR: join(root, name),
    GANTRY_ABILITIES_DIR: join(root, 'abilities'),
    GANTRY_WORKFLOWS_DIR: join(root, 'workflows'),
    GANTRY_JWT_SECRET: 'bench',
    GANTRY_LOG_LEVEL: 'warn',
  })
  const gantry = await createGantry(config, createLogger('warn'))
  await gantry.start({ listen: false })
  return gantry
}

/** Runs `count` units with `IN_FLIGHT` at once; each unit resolves when it ended. Returns seconds and latencies. */
async function drive(count: number, unit: () => Promise<void>) {
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < count) {
        const started = performance.now()
        await unit()
        latencies.push(performance.now() - started)
      }
    }),
  )
  return { seconds: (performance.now() - t0) / 1000, latencies }
}

async function jobsRun(root: string) {
  const gantry = await startGantry(root, 'jobs')
  const waiting = new Map<string, () => void>()
  gantry.bus.on('workflow-job.status', ({ jobId, status }) => {
    if (status === 'completed' || status === 'failed') waiting.get(jobId)?.()
  })
  const caller = { id: 'bench', role: 'user' as const }
  const result = await drive(JOBS, async () => {
    let resolveEnd!: () => void
    const ended = new Promise<void>((resolve) => (resolveEnd = resolve))
    const { job } = await gantry.workflows.start({ caller, workflowId: 'five', params: {} })
    if (job.status === 'completed') return
    waiting.set(job.id, resolveEnd)
    const current = await gantry.store.jobs.get(job.id)
    if (current?.status !== 'completed') await ended
    waiting.delete(job.id)
  })
  const failed = (await gantry.store.jobs.list({ limit: 200 })).items.filter(
    (j) => j.status !== 'completed',
  ).length
  await gantry.stop()
  return { ...result, failed }
}

async function tasksRun(root: string) {
  const gantry = await startGantry(root, 'tasks')
  const waiting = new Map<string, () => void>()
  gantry.bus.on('ability-task.status', ({ task }) => {
    if (task.status === 'succeeded' || task.status === 'failed') waiting.get(task.id)?.()
  })
  const caller = { id: 'bench', role: 'user' as const }
  const result = await drive(JOBS * STEPS, async () => {
    const { task } = await gantry.tasks.prepare({
      caller,
      abilityId: 'noop',
      payload: { inputs: {} },
      priority: 0,
    })
    const ended = new Promise<void>((resolve) => waiting.set(task.id, resolve))
    await gantry.tasks.accept(task)
    await ended
    waiting.delete(task.id)
  })
  await gantry.stop()
  return result
}

const root = await mkdtemp(join(tmpdir(), 'gantry-bench-workflows-'))
await mkdir(join(root, 'abilities'))
await mkdir(join(root, 'workflows'))
await writeFile(
  join(root, 'abilities/noop.yaml'),
  'kind: Executor\nid: m\nprovider: mock\nmaxConcurrency: 64\n---\nkind: Ability\nid: noop\nname: No-op\nexecutor: m\n',
)
await writeFile(
  join(root, 'workflows/five.yaml'),
  `kind: Workflow
id: five
name: Five steps
steps:
  - { id: first, ability: noop }
  - { id: a, ability: noop, needs: [first] }
  - { id: b, ability: noop, needs: [first] }
  - { id: c, ability: noop, needs: [first] }
  - { id: last, ability: noop, needs: [a, b, c] }
`,
)
try {
  const jobs = await jobsRun(root)
  const tasks = await tasksRun(root)
  const perStep = (jobs.seconds * 1000) / (JOBS * STEPS)
  const perTask = (tasks.seconds * 1000) / (JOBS * STEPS)
  console.log(
    `${JOBS} jobs of ${STEPS} no-op steps (1, then 3 in parallel, then 1), ${IN_FLIGHT} jobs in flight`,
  )
  console.log(
    `  jobs   ${(JOBS / jobs.seconds).toFixed(0)} jobs/s   job latency p50 ${pct(jobs.latencies, 50).toFixed(1)} ms  p99 ${pct(jobs.latencies, 99).toFixed(1)} ms  (not completed: ${jobs.failed})`,
  )
  console.log(
    `  tasks  ${((JOBS * STEPS) / tasks.seconds).toFixed(0)} tasks/s  task latency p50 ${pct(tasks.latencies, 50).toFixed(1)} ms  p99 ${pct(tasks.latencies, 99).toFixed(1)} ms  (${JOBS * STEPS} plain tasks, ${IN_FLIGHT} in flight)`,
  )
  console.log(
    `  a step costs ${perStep.toFixed(3)} ms of throughput, a plain task ${perTask.toFixed(3)} ms: ${(perStep / perTask).toFixed(2)}x (target <= 1.5x)`,
  )
} finally {
  await rm(root, { recursive: true, force: true })
}
