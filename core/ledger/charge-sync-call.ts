import { randomUUID } from 'node:crypto'
import type { EventBus } from '../events/bus.js'
import type { AbilityInvokeResponse, Caller } from '../model/call.js'
import { round } from '../model/ledger.js'
import type { Store } from '../model/store.js'
import type { PreparedCall } from '../run/prepare-call.js'
import { chargeFor } from './pricing.js'
import { chargedBy } from './rules.js'

/**
 * The sync invoke follows the tasks' rules: the estimate is held before the
 * call runs (402 when the wallet cannot cover it), the price committed when it
 * succeeds and the rest released; all of it released when it fails.
 */
export async function chargeSyncCall(
  deps: { store: Store; bus: EventBus },
  caller: Caller,
  call: PreparedCall,
  run: () => Promise<AbilityInvokeResponse>,
): Promise<AbilityInvokeResponse> {
  // in a cluster the key names the node, so the leader can release it if that node dies mid-call
  const node = deps.store.cluster?.nodeId
  const holdKey = node ? `invoke:${node}:${randomUUID()}` : `invoke:${randomUUID()}`
  const points = call.estimate.hold
  const held = await deps.store.ledger.hold(caller.id, holdKey, points)
  if (held) await announce(deps, caller.id, 'frozen', points)
  let response: AbilityInvokeResponse | undefined
  try {
    response = await run()
    return response
  } finally {
    if (held) {
      const price = response?.status === 'succeeded' ? response.cost.points : 0
      // beyond the hold, the store charges only what the wallet covers when it settles
      const settled = await deps.store.ledger.settle(holdKey, chargeFor(call.ability.pricing, price, points))
      const charged = chargedBy(settled)
      if (response) response.cost = { points: charged }
      // nothing settled: the hold was closed elsewhere (a sweep), and announced there
      if (settled.length && charged > 0)
        await announce(deps, caller.id, 'committed', Math.min(charged, points))
      if (settled.length && charged < points)
        await announce(deps, caller.id, 'released', round(points - charged))
    }
  }
}

async function announce(
  deps: { store: Store; bus: EventBus },
  userId: string,
  status: 'frozen' | 'committed' | 'released',
  points: number,
) {
  const wallet = await deps.store.ledger.wallet(userId)
  deps.bus.emit('wallet.points', {
    userId,
    status,
    points,
    balance: wallet.balance,
    available: wallet.available,
  })
}
