/**
 * The built-in `mock` provider, for demos, dry runs and tests (README, Definitions).
 * Its behaviour comes from the call's inputs merged over the ability's config.
 */
import {
  defineProvider,
  type InvokeContext,
  ProviderError,
  type ProviderResult,
  sleep,
} from '../../core/contract.js'

interface MockBehaviour {
  delayMs?: number
  progressSteps?: number
  fail?: string
  failTimes?: number
  output?: Record<string, unknown>
  cpuMs?: number
  async?: boolean
}

const behaviourOf = (ctx: InvokeContext): MockBehaviour => ({ ...ctx.config, ...ctx.inputs }) as MockBehaviour

function resultOf(ctx: InvokeContext, b: MockBehaviour): ProviderResult {
  const result: ProviderResult = {
    texts: [JSON.stringify(ctx.inputs)],
    raw: { mock: true, inputs: ctx.inputs },
  }
  return b.output && typeof b.output === 'object' ? { ...result, ...b.output } : result
}

function failIfAsked(ctx: InvokeContext, b: MockBehaviour) {
  if (typeof b.fail === 'string') throw new ProviderError(b.fail)
  if (typeof b.failTimes === 'number' && ctx.attempt <= b.failTimes) {
    throw new ProviderError(`mock failure ${ctx.attempt} of ${b.failTimes}`)
  }
}

/** Busy-waits: the point is to hold a thread, as CPU-bound work would. */
function burnCpu(ms: number) {
  const end = performance.now() + ms
  while (performance.now() < end) {}
}

async function wait(ctx: InvokeContext, b: MockBehaviour) {
  const delay = Number(b.delayMs ?? 0)
  if (delay <= 0) return
  const steps = Math.max(1, Math.floor(Number(b.progressSteps ?? 4)))
  for (let i = 1; i <= steps; i++) {
    await sleep(delay / steps, ctx.signal)
    ctx.progress(Math.round((i / steps) * 100), `step ${i}/${steps}`, ((steps - i) * delay) / steps / 1000)
  }
}

/** The external id carries what poll needs, so polling works on any thread and after a restart. */
const encodeJob = (startedAt: number) => `mock-${startedAt}-${Math.random().toString(36).slice(2, 10)}`
const startedAtOf = (externalId: string) => Number(externalId.split('-')[1])

export default defineProvider({
  name: 'mock',
  version: '1.0.0',
  abilityConfigSchema: {
    type: 'object',
    properties: {
      delayMs: { type: 'number', minimum: 0 },
      progressSteps: { type: 'integer', minimum: 1 },
      fail: { type: 'string' },
      failTimes: { type: 'integer', minimum: 0 },
      output: { type: 'object' },
      cpuMs: { type: 'number', minimum: 0 },
      async: { type: 'boolean' },
    },
  },

  async invoke(ctx) {
    const b = behaviourOf(ctx)
    if (b.cpuMs) burnCpu(Number(b.cpuMs))
    await wait(ctx, b)
    failIfAsked(ctx, b)
    return resultOf(ctx, b)
  },

  async submit(ctx) {
    const b = behaviourOf(ctx)
    if (typeof b.fail === 'string' && !b.delayMs) throw new ProviderError(b.fail)
    return { externalId: encodeJob(Date.now()) }
  },

  async poll(ctx, externalId) {
    const b = behaviourOf(ctx)
    const delay = Number(b.delayMs ?? 0)
    const elapsed = Date.now() - startedAtOf(externalId)
    if (elapsed < delay) {
      return {
        status: 'running',
        progress: Math.floor((elapsed / delay) * 100),
        stage: 'generating',
        eta: (delay - elapsed) / 1000,
      }
    }
    try {
      failIfAsked(ctx, b)
    } catch (err) {
      return { status: 'failed', message: (err as Error).message }
    }
    return { status: 'succeeded', result: resultOf(ctx, b) }
  },

  async cancel() {},
})
