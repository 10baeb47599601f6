/**
 * The ledger's rules, shared by every store: when a hold is refused, how a hold
 * is closed, and how `verify` recomputes wallets from entries.
 */
import { GantryError } from '../errors.js'
import { applyEntry, type LedgerEntry, type LedgerKind, round, walletOf } from '../model/ledger.js'
import type { LedgerDifference } from '../model/store.js'

export const insufficientCredits = (required: number, available: number) =>
  new GantryError('INSUFFICIENT_CREDITS', `this call needs ${required} points; ${available} are available`, {
    details: { required, available },
  })

/**
 * The entries that close a hold of `held` points when `charge` is spent. Beyond
 * the hold (when the ability allows it) only as far as `available` (the
 * wallet's, this hold still frozen) covers: a balance never goes below zero.
 * Stores call it with the wallet locked, so concurrent settles see each other.
 */
export function settlementOf(
  held: number,
  charge: number,
  available: number,
): { kind: LedgerKind; points: number; reason?: string }[] {
  // a charge that is not a number never reaches the ledger: the hold is spent, no more
  const wanted = Number.isFinite(charge) ? round(Math.max(0, charge)) : held
  const spent = Math.min(wanted, round(held + Math.max(0, available)))
  const entries: { kind: LedgerKind; points: number; reason?: string }[] = []
  if (spent > 0) entries.push({ kind: 'commit', points: Math.min(spent, held) })
  if (spent < held) entries.push({ kind: 'release', points: round(held - spent) })
  // beyond the hold: the excess comes off the balance
  if (spent > held)
    entries.push({ kind: 'adjust', points: -round(spent - held), reason: 'usage beyond the hold' })
  return entries
}

/** What a settlement charged: its commit and any adjustment beyond the hold. */
export function chargedBy(entries: Pick<LedgerEntry, 'kind' | 'points'>[]): number {
  let charged = 0
  for (const e of entries) {
    if (e.kind === 'commit') charged += e.points
    else if (e.kind === 'adjust') charged -= e.points
  }
  return round(charged)
}

/**
 * A task's response says what its settlement charged, which is less than asked
 * when the wallet could not cover usage beyond the hold. Written with the settlement.
 */
export function noteCharged(task: { resultPayload?: { cost: { points: number } } }, settled: LedgerEntry[]) {
  if (settled.length && task.resultPayload) task.resultPayload.cost = { points: chargedBy(settled) }
}

type Balances = { balance: number; frozen: number }

/**
 * Walks entries in order: each records the wallet right after it, so a changed
 * or missing entry shows as the first one whose recorded wallet is not what the
 * entries add up to. Then the cached wallets are compared with the sums.
 */
export class LedgerAudit {
  private readonly sums = new Map<string, Balances>()
  private readonly found = new Map<string, LedgerDifference>()

  entry(entry: LedgerEntry): void {
    const after = applyEntry(this.sums.get(entry.userId) ?? { balance: 0, frozen: 0 }, entry)
    this.sums.set(entry.userId, after)
    const mismatch = round(after.balance) !== entry.balance || round(after.frozen) !== entry.frozen
    if (mismatch && !this.found.has(entry.userId)) {
      this.found.set(entry.userId, {
        userId: entry.userId,
        entryId: entry.id,
        cached: walletOf(entry.userId, { balance: entry.balance, frozen: entry.frozen }),
        recomputed: walletOf(entry.userId, after),
      })
    }
  }

  cachedWallet(userId: string, cached: Balances): void {
    const again = this.sums.get(userId) ?? { balance: 0, frozen: 0 }
    const differs =
      round(again.balance) !== round(cached.balance) || round(again.frozen) !== round(cached.frozen)
    if (differs && !this.found.has(userId)) {
      this.found.set(userId, {
        userId,
        cached: walletOf(userId, cached),
        recomputed: walletOf(userId, again),
      })
    }
  }

  differences(): LedgerDifference[] {
    return [...this.found.values()]
  }
}
