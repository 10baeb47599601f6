/**
 * Plugin hooks on the main thread: `onEvent` for every bus event,
 * `beforeInvoke` (refuse with a `HookRejection` or a `ProviderError`, or add metadata) and
 * `afterInvoke`. Each runs in a time box; one that throws or overruns is
 * logged and skipped, never fatal.
 */
import type { HookCall, HookOutcome, PluginEvent, PluginHooks } from '../contract.js'
import { ERROR_STATUS, type ErrorCode, GantryError } from '../errors.js'
import type { Logger } from '../logger.js'
import { ENDED } from '../model/task.js'
import type { EventBus } from './bus.js'

const OVERRAN = Symbol('overran')

/**
 * The contract's two refusals. Matched by name, not `instanceof`: a plugin
 * installed as a package may bring its own copy of the contract module.
 */
function refuses(err: unknown): err is Error & { code: unknown } {
  const name = (err as Error | undefined)?.name
  return name === 'HookRejection' || name === 'ProviderError'
}

export interface HookRunner {
  attach(bus: EventBus): () => void
  /** Metadata the hooks add; throws the GantryError of a hook's rejection. */
  beforeInvoke(call: HookCall): Promise<Record<string, unknown>>
  afterInvoke(call: HookCall, outcome: HookOutcome): void
}

export function createHookRunner(
  plugins: { plugin: string; hooks: PluginHooks }[],
  log: Logger,
  timeBoxMs = 1000,
): HookRunner {
  async function boxed<T>(
    plugin: string,
    hook: string,
    run: () => T | Promise<T>,
  ): Promise<T | typeof OVERRAN> {
    let timer: NodeJS.Timeout | undefined
    const overrun = new Promise<typeof OVERRAN>((resolve) => {
      timer = setTimeout(() => resolve(OVERRAN), timeBoxMs)
    })
    try {
      const result = await Promise.race([Promise.resolve().then(run), overrun])
      if (result === OVERRAN) log('warn', `plugin hook ${plugin}.${hook} overran ${timeBoxMs} ms; skipped`)
      return result
    } finally {
      clearTimeout(timer)
    }
  }

  const skip = (plugin: string, hook: string, err: unknown) =>
    log('warn', `plugin hook ${plugin}.${hook} failed; skipped`, { err })

  const afterInvoke = (call: HookCall, outcome: HookOutcome) => {
    for (const { plugin, hooks } of plugins) {
      if (hooks.afterInvoke)
        boxed(plugin, 'afterInvoke', () => hooks.afterInvoke!(call, outcome)).catch((err) =>
          skip(plugin, 'afterInvoke', err),
        )
    }
  }

  return {
    attach(bus) {
      const listeners = plugins.filter((p) => p.hooks.onEvent)
      const offAny = listeners.length
        ? bus.onAny((type, payload) => {
            for (const { plugin, hooks } of listeners) {
              boxed(plugin, 'onEvent', () => hooks.onEvent!(...([type, payload] as PluginEvent))).catch(
                (err) => skip(plugin, 'onEvent', err),
              )
            }
          })
        : () => {}
      // a task's end is its call's end, wherever it ran
      const offTasks = bus.on('ability-task.status', ({ task }) => {
        if (!ENDED.has(task.status)) return
        afterInvoke(
          {
            abilityId: task.abilityId,
            executorId: task.executorId,
            userId: task.userId,
            inputs: task.payload.inputs ?? {},
            metadata: task.payload.metadata ?? {},
          },
          {
            status: task.status === 'succeeded' ? 'succeeded' : 'failed',
            durationMs: (task.finishedAt ?? 0) - (task.startedAt ?? task.finishedAt ?? 0),
            errorCode: task.errorCode,
          },
        )
      })
      return () => {
        offAny()
        offTasks()
      }
    },

    async beforeInvoke(call) {
      let added: Record<string, unknown> = {}
      for (const { plugin, hooks } of plugins) {
        if (!hooks.beforeInvoke) continue
        try {
          const result = await boxed(plugin, 'beforeInvoke', () =>
            hooks.beforeInvoke!({ ...call, metadata: { ...call.metadata, ...added } }),
          )
          if (result && result !== OVERRAN && typeof result === 'object') added = { ...added, ...result }
        } catch (err) {
          if (refuses(err)) {
            const code = String(err.code)
            throw new GantryError(code, (err as Error).message, {
              status: ERROR_STATUS[code as ErrorCode] ?? 403,
              details: { plugin },
            })
          }
          skip(plugin, 'beforeInvoke', err)
        }
      }
      return added
    },

    afterInvoke,
  }
}
