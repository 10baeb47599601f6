import type { AbilityDef, DefinitionSet, ExecutorDef, PollPolicy, RetryPolicy } from '../definitions/types.js'
import { GantryError } from '../errors.js'
import { type Estimate, estimatePrice } from '../ledger/pricing.js'
import { refuseMediaRefs } from '../media/input-refs.js'
import type { LoadedProvider, ProviderCatalog } from './providers.js'
import { secretsOf } from './redact.js'
import type { AbilityInvokePayload } from './types.js'

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

export function prepareCall(
  definitions: DefinitionSet,
  providers: ProviderCatalog,
  abilityId: string,
  payload: AbilityInvokePayload,
): PreparedCall {
  const ability = definitions.abilities.get(abilityId)
  if (!ability) throw new GantryError('ABILITY_NOT_FOUND', `ability '${abilityId}' not found`)
  const executorId = payload.executorId ?? ability.executorId
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
