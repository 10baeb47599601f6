import type { AbilityDef, DefinitionSet, ExecutorDef, PollPolicy, RetryPolicy } from '../definitions/types.js'
import { GantryError } from '../errors.js'
import { type Estimate, estimatePrice } from '../ledger/pricing.js'
import { refuseMediaRefs } from '../media/input-refs.js'
import type { AbilityInvokePayload, Caller } from '../model/call.js'
import type { LoadedProvider, ProviderCatalog } from './providers.js'
import { secretsOf } from './redact.js'

/** A call checked and resolved against one definitions snapshot; it runs on these even if a reload follows. */
export interface PreparedCall {
  ability: AbilityDef
  executor: ExecutorDef
  provider: LoadedProvider
  inputs: Record<string, unknown>
  config: Record<string, unknown>
  media: { imageUrl?: string; imageBase64?: string; images?: string[] }
  metadata: Record<string, unknown>
  payload: AbilityInvokePayload
  timeoutMs: number
  retry: RetryPolicy
  poll: PollPolicy
  estimate: Estimate
  /** Secret strings to mask wherever they show up. */
  secrets: string[]
}

export const DEFAULT_TIMEOUT_MS = 60_000

/**
 * Checks a call and resolves it on `definitions`. `caller` is who asks for it
 * now; null when a stored task is prepared again, whose executor was checked
 * when it was accepted.
 */
export function prepareCall(
  definitions: DefinitionSet,
  providers: ProviderCatalog,
  abilityId: string,
  payload: AbilityInvokePayload,
  caller: Caller | null,
): PreparedCall {
  const ability = definitions.abilities.get(abilityId)
  if (!ability) throw new GantryError('ABILITY_NOT_FOUND', `ability '${abilityId}' not found`)
  const executorId = executorFor(ability, payload.executorId, caller)
  const executor = definitions.executors.get(executorId)
  if (!executor) {
    throw new GantryError(
      'ABILITY_EXECUTOR_NOT_CONFIGURED',
      `executor '${executorId}' of ability '${abilityId}' is not configured`,
    )
  }
  if (executor.notConfigured) {
    throw new GantryError(
      'ABILITY_EXECUTOR_NOT_CONFIGURED',
      `executor '${executorId}' of ability '${abilityId}' is not configured: ${executor.notConfigured.join('; ')}`,
    )
  }
  const provider = providers.get(executor.provider)
  if (!provider) {
    throw new GantryError(
      'ABILITY_EXECUTOR_NOT_CONFIGURED',
      `provider '${executor.provider}' of executor '${executorId}' is not loaded`,
    )
  }
  // only Gantry writes media references (for the tasks it stores); one sent in would read another user's upload
  const { inputs, imageUrl, imageBase64, images } = payload
  refuseMediaRefs({ inputs, imageUrl, imageBase64, images }, 'inputs')
  const checked = ability.checkInput(payload.inputs ?? {})
  if (!checked.ok) {
    throw new GantryError('VALIDATION_FAILED', `inputs do not match the input schema of '${abilityId}'`, {
      details: checked.errors,
    })
  }
  const config = { ...executor.config, ...ability.config }
  return {
    ability,
    executor,
    provider,
    inputs: checked.inputs,
    config,
    media: { imageUrl: payload.imageUrl, imageBase64: payload.imageBase64, images: payload.images },
    metadata: payload.metadata ?? {},
    payload,
    timeoutMs: ability.timeoutMs ?? executor.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: ability.retry ?? executor.retry ?? { max: 0, backoffMs: 0 },
    poll: { ...executor.poll, ...ability.poll },
    estimate: estimatePrice(ability.pricing, checked.inputs),
    secrets: secretsOf(config),
  }
}

/**
 * The ability's own executor, or the one the payload names if the caller is an
 * admin. Another executor may reach what the ability's may not (private
 * addresses, a premium lane), so a user may not borrow it; a name that does not
 * exist is refused alike, so users cannot probe for executors.
 */
function executorFor(ability: AbilityDef, requested: string | undefined, caller: Caller | null): string {
  if (requested === undefined || requested === ability.executorId) return ability.executorId
  if (caller && caller.role !== 'admin') {
    throw new GantryError(
      'FORBIDDEN',
      `only an admin may run ability '${ability.id}' on an executor other than its own ('${ability.executorId}')`,
    )
  }
  return requested
}
