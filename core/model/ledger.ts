/** The credits ledger: append-only entries; wallets are derived from them. */
import { randomUUID } from 'node:crypto'

export type LedgerKind = 'grant' | 'adjust' | 'hold' | 'commit' | 'release'

export interface LedgerEntry {
  id: string
  userId: string
  kind: LedgerKind
  /** Always positive, except an `adjust`, which may take points away. */
  points: number
  /** The hold this entry belongs to: `task:<id>` or `invoke:<id>`; hold, commit and release are unique per (hold, kind). */
  holdKey?: string
  taskId?: string
  reason?: string
  /** Who granted or adjusted (an admin's user id). */
  actor?: string
  createdAt: number
  /** The wallet right after this entry. */
  balance: number
  frozen: number
}

export interface Wallet {
  userId: string
  balance: number
  frozen: number
  available: number
}

/** How an entry moves a wallet: the one rule both the cache and `gantry ledger verify` use. */
export function applyEntry(
  wallet: { balance: number; frozen: number },
  entry: Pick<LedgerEntry, 'kind' | 'points'>,
) {
  switch (entry.kind) {
    case 'grant':
    case 'adjust':
      return { balance: wallet.balance + entry.points, frozen: wallet.frozen }
    case 'hold':
      return { balance: wallet.balance, frozen: wallet.frozen + entry.points }
    case 'commit':
      // a commit spends points that were frozen for it (its release frees the rest)
      return { balance: wallet.balance - entry.points, frozen: wallet.frozen - entry.points }
    case 'release':
      return { balance: wallet.balance, frozen: wallet.frozen - entry.points }
  }
}

/** A new entry, recording the wallet as it stands right after it. */
export function newEntry(
  userId: string,
  kind: LedgerKind,
  points: number,
  extra: Partial<LedgerEntry>,
  after: { balance: number; frozen: number },
): LedgerEntry {
  return {
    id: randomUUID(),
    userId,
    kind,
    points,
    ...extra,
    createdAt: Date.now(),
    balance: round(after.balance),
    frozen: round(after.frozen),
  }
}

export const walletOf = (userId: string, w: { balance: number; frozen: number }): Wallet => ({
  userId,
  balance: round(w.balance),
  frozen: round(w.frozen),
  available: round(w.balance - w.frozen),
})

export const round = (points: number) => Math.round(points * 100) / 100
