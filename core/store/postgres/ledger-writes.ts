/**
 * The ledger's writes inside a caller's transaction. A wallet row is locked
 * (FOR UPDATE) before any hold is checked or any hold closed, and always before
 * its open hold, so concurrent writers to one wallet queue up and none overdraws it.
 */
import type { PoolClient } from 'pg'
import { insufficientCredits, settlementOf } from '../../ledger/rules.js'
import { applyEntry, type LedgerEntry, type LedgerKind, newEntry, round } from '../../model/ledger.js'

/** Locks the user's wallet row (creating an empty one) for the rest of the transaction. */
export async function lockWallet(
  client: PoolClient,
  userId: string,
): Promise<{ balance: number; frozen: number }> {
  await client.query(
    'INSERT INTO wallets (user_id, balance, frozen) VALUES ($1, 0, 0) ON CONFLICT (user_id) DO NOTHING',
    [userId],
  )
  const { rows } = await client.query<{ balance: string; frozen: string }>(
    'SELECT balance, frozen FROM wallets WHERE user_id = $1 FOR UPDATE',
    [userId],
  )
  return { balance: Number(rows[0].balance), frozen: Number(rows[0].frozen) }
}

/** Appends one entry: the wallet moves by it (exactly, in numeric) and the entry records the wallet after it. */
export async function appendEntry(
  client: PoolClient,
  userId: string,
  kind: LedgerKind,
  points: number,
  extra: Partial<LedgerEntry>,
): Promise<LedgerEntry> {
  // the same rule as everywhere, applied to an empty wallet: how far this entry moves one
  const delta = applyEntry({ balance: 0, frozen: 0 }, { kind, points })
  const { rows } = await client.query<{ balance: string; frozen: string }>(
    `INSERT INTO wallets (user_id, balance, frozen) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, frozen = wallets.frozen + EXCLUDED.frozen
     RETURNING balance, frozen`,
    [userId, delta.balance, delta.frozen],
  )
  const entry = newEntry(userId, kind, points, extra, {
    balance: Number(rows[0].balance),
    frozen: Number(rows[0].frozen),
  })
  await client.query(
    'INSERT INTO ledger_entries (id, user_id, kind, points, hold_key, record) VALUES ($1, $2, $3, $4, $5, $6)',
    [entry.id, userId, kind, points, entry.holdKey ?? null, JSON.stringify(entry)],
  )
  return entry
}

/** A hold, if the wallet covers it (none for 0 points, none if `holdKey` is already open); INSUFFICIENT_CREDITS otherwise. */
export async function holdIn(
  client: PoolClient,
  userId: string,
  holdKey: string,
  points: number,
  taskId?: string,
): Promise<LedgerEntry | undefined> {
  if (points <= 0) return undefined
  const wallet = await lockWallet(client, userId)
  const open = await client.query('SELECT 1 FROM open_holds WHERE hold_key = $1', [holdKey])
  if (open.rowCount) return undefined
  const available = round(wallet.balance - wallet.frozen)
  if (available < points) throw insufficientCredits(points, available)
  const entry = await appendEntry(client, userId, 'hold', points, { holdKey, taskId })
  await client.query('INSERT INTO open_holds (hold_key, user_id, points, task_id) VALUES ($1, $2, $3, $4)', [
    holdKey,
    userId,
    points,
    taskId ?? null,
  ])
  return entry
}

/**
 * Closes a hold: `charge` of it committed, the rest released; beyond the hold, an
 * adjustment as far as the wallet covers. Nothing if already closed.
 */
export async function settleIn(client: PoolClient, holdKey: string, charge: number): Promise<LedgerEntry[]> {
  const found = await client.query<{ user_id: string }>(
    'SELECT user_id FROM open_holds WHERE hold_key = $1',
    [holdKey],
  )
  if (!found.rowCount) return []
  const wallet = await lockWallet(client, found.rows[0].user_id)
  // whoever deletes the row closes the hold; a concurrent settle finds nothing left
  const { rows } = await client.query<{ user_id: string; points: string; task_id: string | null }>(
    'DELETE FROM open_holds WHERE hold_key = $1 RETURNING user_id, points, task_id',
    [holdKey],
  )
  if (!rows.length) return []
  const userId = rows[0].user_id
  const points = Number(rows[0].points)
  const link = { holdKey, taskId: rows[0].task_id ?? undefined }
  const entries: LedgerEntry[] = []
  // read under the lock: what the wallet covers beyond the hold cannot change before the entries land
  const available = round(wallet.balance - wallet.frozen)
  for (const { kind, points: amount, reason } of settlementOf(points, charge, available)) {
    entries.push(await appendEntry(client, userId, kind, amount, { ...link, ...(reason ? { reason } : {}) }))
  }
  return entries
}
