/**
 * How large points may get. A wallet counts in cents on a double, exact up to
 * 2^53 / 100 (about 9e13 points): balances stop well below that, so no sum of
 * grants can reach Infinity or lose a cent, on either store.
 */
import { GantryError } from '../errors.js'
import { round } from '../model/ledger.js'

/** The most a wallet's balance may reach. */
export const MAX_BALANCE = 1e13
/** The most one grant may add. */
export const MAX_GRANT = 1e12

/** A grant's points as a request gives them: a number above 0, at most MAX_GRANT, in cents. VALIDATION_FAILED otherwise. */
export function grantPoints(points: unknown): number {
  if (typeof points !== 'number' || !Number.isFinite(points) || points <= 0 || points > MAX_GRANT) {
    throw new GantryError('VALIDATION_FAILED', `points must be a number above 0 and at most ${MAX_GRANT}`)
  }
  if (round(points) !== points) {
    throw new GantryError('VALIDATION_FAILED', 'points must have at most two decimals')
  }
  return points
}

/**
 * What a store checks before a grant (or adjustment) lands, with the wallet
 * locked so two grants at once cannot pass together: a finite amount, and a
 * balance that stays within MAX_BALANCE (409 BALANCE_LIMIT).
 */
export function checkGrant(balance: number, points: number): void {
  if (!Number.isFinite(points)) throw new GantryError('VALIDATION_FAILED', 'points must be a finite number')
  if (points > 0 && balance + points > MAX_BALANCE) {
    throw new GantryError(
      'BALANCE_LIMIT',
      `a balance may not exceed ${MAX_BALANCE} points; this one is ${balance}`,
      { status: 409, details: { balance, points, max: MAX_BALANCE } },
    )
  }
}

/** Whether a computed price is one a wallet could pay: a number, 0 or more, within MAX_BALANCE. */
export const priceInRange = (points: number) =>
  Number.isFinite(points) && points >= 0 && points <= MAX_BALANCE
