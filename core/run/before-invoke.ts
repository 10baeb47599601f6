/**
 * The plugins' say on a call before it is accepted. Sync invokes, task submits
 * and workflow steps all pass through `passBeforeInvoke`, so a call a hook
 * refuses on one path is refused on every path.
 */
import type { HookCall } from '../contract.js'
import type { HookRunner } from '../events/plugin-hooks.js'
import type { PreparedCall } from './prepare-call.js'

/** What the hooks see of a call made for `userId`. */
export function hookCallOf(call: PreparedCall, userId: string): HookCall {
  return {
    abilityId: call.ability.id,
    executorId: call.executor.id,
    userId,
    inputs: call.inputs,
    metadata: call.metadata,
  }
}

/**
 * Runs the `beforeInvoke` hooks on a prepared call: throws the GantryError of a
 * hook's refusal; otherwise returns the call with the metadata the hooks added.
 */
export async function passBeforeInvoke(
  hooks: HookRunner,
  call: PreparedCall,
  userId: string,
): Promise<PreparedCall> {
  const added = await hooks.beforeInvoke(hookCallOf(call, userId))
  if (Object.keys(added).length === 0) return call
  const metadata = { ...call.metadata, ...added }
  return { ...call, metadata, payload: { ...call.payload, metadata } }
}
