import { Hono } from 'hono'
import type { DefinitionSet } from '../../definitions/types.js'
import { GantryError } from '../../errors.js'
import type { EventBus } from '../../events/bus.js'
import { grantPoints } from '../../ledger/limits.js'
import { estimatePrice } from '../../ledger/pricing.js'
import type { Store } from '../../model/store.js'
import { requireAdmin } from '../auth.js'
import type { AppEnv } from '../env.js'
import { validateEstimateBody, validateGrantBody } from '../payload-schemas.js'
import { pageLimit } from '../query.js'
import { readBody } from '../read-body.js'

export interface CreditRoutesDeps {
  definitions(): DefinitionSet
  store: Store
  bus: EventBus
}

interface EstimateBody {
  abilityId: string
  inputs?: Record<string, unknown>
}

interface GrantBody {
  points: number
  reason: string
}

/** `/api/credits/estimate`, `/api/wallet`, `/api/wallet/ledger`, `/api/admin/wallets/:userId/*`. */
export function creditRoutes(deps: CreditRoutesDeps) {
  return new Hono<AppEnv>()
    .post('/credits/estimate', async (c) => {
      const { abilityId, inputs } = await readBody<EstimateBody>(c, validateEstimateBody)
      const ability = deps.definitions().abilities.get(abilityId)
      if (!ability) throw new GantryError('ABILITY_NOT_FOUND', `ability '${abilityId}' not found`)
      const checked = ability.checkInput(inputs ?? {})
      if (!checked.ok) {
        throw new GantryError('VALIDATION_FAILED', `inputs do not match the input schema of '${abilityId}'`, {
          details: checked.errors,
        })
      }
      const { points, breakdown, hold } = estimatePrice(ability.pricing, checked.inputs)
      return c.json({ abilityId, points, breakdown, hold })
    })
    .get('/wallet', async (c) => c.json(await deps.store.ledger.wallet(c.get('caller').id)))
    .get('/wallet/ledger', async (c) =>
      c.json(
        await deps.store.ledger.list({
          userId: c.get('caller').id,
          limit: pageLimit(c.req.query('limit')),
          cursor: c.req.query('cursor'),
        }),
      ),
    )
    .get('/admin/wallets/:userId', requireAdmin, async (c) =>
      c.json(await deps.store.ledger.wallet(c.req.param('userId'))),
    )
    .get('/admin/wallets/:userId/ledger', requireAdmin, async (c) =>
      c.json(
        await deps.store.ledger.list({
          userId: c.req.param('userId'),
          limit: pageLimit(c.req.query('limit')),
          cursor: c.req.query('cursor'),
        }),
      ),
    )
    .post('/admin/wallets/:userId/grant', requireAdmin, async (c) => {
      const body = await readBody<GrantBody>(c, validateGrantBody)
      const points = grantPoints(body.points)
      const reason = body.reason.trim()
      if (!reason) throw new GantryError('VALIDATION_FAILED', 'a grant needs a reason')
      const userId = c.req.param('userId')
      const entry = await deps.store.ledger.grant(userId, points, reason, c.get('caller').id)
      const wallet = await deps.store.ledger.wallet(userId)
      deps.bus.emit('wallet.points', {
        userId,
        status: 'granted',
        points,
        balance: wallet.balance,
        available: wallet.available,
      })
      return c.json({ entry, wallet }, 201)
    })
}
