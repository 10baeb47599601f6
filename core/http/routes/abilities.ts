import { Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { newDelivery } from '../../callbacks/new-delivery.js'
import { assertCallbackAllowed } from '../../callbacks/ssrf.js'
import type { AbilityDef, DefinitionSet } from '../../definitions/types.js'
import { ERROR_STATUS, type ErrorCode, GantryError } from '../../errors.js'
import type { HookRunner } from '../../events/plugin-hooks.js'
import { chargeSyncCall } from '../../ledger/charge-sync-call.js'
import type { AbilityInvokePayload, AbilityInvokeResponse } from '../../model/call.js'
import type { CallbackDelivery } from '../../model/callback.js'
import { hookCallOf, passBeforeInvoke } from '../../run/before-invoke.js'
import { prepareCall } from '../../run/prepare-call.js'
import type { ProviderCatalog } from '../../run/providers.js'
import { type CallRunnerDeps, runCall } from '../../run/run-call.js'
import type { AppEnv } from '../env.js'
import { validateInvokePayload } from '../payload-schemas.js'
import { readBody } from '../read-body.js'

export interface AbilityRoutesDeps {
  definitions(): DefinitionSet
  providers: ProviderCatalog
  runner: CallRunnerDeps
  allowPrivateCallbacks: boolean
  /** Queues a signed callback delivery (the sync invoke honours `callbackUrl` too). */
  queueCallback(delivery: CallbackDelivery): Promise<void>
  hooks: HookRunner
}

/** How an ability is shown to clients (README, HTTP API). */
export function describeAbility(ability: AbilityDef, set: DefinitionSet) {
  const executor = set.executors.get(ability.executorId)
  return {
    id: ability.id,
    name: ability.name,
    description: ability.description,
    type: ability.type,
    executorId: ability.executorId,
    provider: executor?.provider ?? null,
    input: ability.input,
    defaults: ability.defaults,
    pricing: ability.pricing ?? null,
    tags: ability.tags,
    // whether it can run here now: its executor exists and has the configuration it needs
    ready: !!executor && !executor.notConfigured,
    ...(executor?.notConfigured ? { notReady: executor.notConfigured } : {}),
    ...(!executor ? { notReady: [`executor '${ability.executorId}' is not defined`] } : {}),
  }
}

/** Public listing routes (no token needed). */
export function abilityListRoutes(deps: AbilityRoutesDeps) {
  return new Hono<AppEnv>()
    .get('/', (c) => {
      const set = deps.definitions()
      return c.json({ abilities: [...set.abilities.values()].map((a) => describeAbility(a, set)) })
    })
    .get('/:id', (c) => {
      const set = deps.definitions()
      const ability = set.abilities.get(c.req.param('id'))
      if (!ability) throw new GantryError('ABILITY_NOT_FOUND', `ability '${c.req.param('id')}' not found`)
      return c.json(describeAbility(ability, set))
    })
}

/** `POST /api/abilities/:id/invoke`: the synchronous call. */
export function abilityInvokeRoutes(deps: AbilityRoutesDeps) {
  return new Hono<AppEnv>().post('/:id/invoke', async (c) => {
    const payload = await readBody<AbilityInvokePayload>(c, validateInvokePayload)
    const caller = c.get('caller')
    const checked = prepareCall(deps.definitions(), deps.providers, c.req.param('id'), payload, caller)
    if (payload.callbackUrl) await assertCallbackAllowed(payload.callbackUrl, deps.allowPrivateCallbacks)
    const call = await passBeforeInvoke(deps.hooks, checked, caller.id)
    const response = await chargeSyncCall(deps.runner, caller, call, () =>
      runCall(deps.runner, call, { caller }),
    )
    deps.hooks.afterInvoke(hookCallOf(call, caller.id), {
      status: response.status,
      durationMs: response.durationMs,
      errorCode: response.error?.code,
    })
    if (payload.callbackUrl) await deps.queueCallback(syncCallback(payload, caller.id, response))
    const status = response.error ? (ERROR_STATUS[response.error.code as ErrorCode] ?? 502) : 200
    return c.json(response, status as ContentfulStatusCode)
  })
}

function syncCallback(
  payload: AbilityInvokePayload,
  userId: string,
  response: AbilityInvokeResponse,
): CallbackDelivery {
  return newDelivery({
    url: payload.callbackUrl!,
    headers: payload.callbackHeaders,
    userId,
    status: response.status,
    result: response.status === 'succeeded' ? response : null,
    error: response.error ?? null,
    logId: response.logId,
  })
}
