import type { Pool } from 'pg'
import { checkGrant } from '../../ledger/limits.js'
import { LedgerAudit } from '../../ledger/rules.js'
import { type LedgerEntry, walletOf } from '../../model/ledger.js'
import type { LedgerRepository } from '../../model/store.js'
import { appendEntry, holdIn, lockWallet, settleIn } from './ledger-writes.js'
import { pageBySeq } from './page.js'
import { withTransaction } from './tx.js'

/** Entries read per round trip while verifying. */
const VERIFY_BATCH = 5000

/** The ledger: entries append-only, wallets and open holds cached beside them in the same transactions. */
export function createLedgerRepository(pool: Pool): LedgerRepository {
  return {
    async wallet(userId) {
      const { rows } = await pool.query<{ balance: string; frozen: string }>(
        'SELECT balance, frozen FROM wallets WHERE user_id = $1',
        [userId],
      )
      return walletOf(userId, numbers(rows[0]))
    },

    list(query) {
      return pageBySeq<LedgerEntry>(pool, 'ledger_entries', {
        where: { user_id: query.userId },
        limit: query.limit,
        cursor: query.cursor,
      })
    },

    grant(userId, points, reason, actor, kind = 'grant') {
      return withTransaction(pool, async (client) => {
        // checked under the wallet's lock: two grants at once cannot pass the limit together
        const { balance } = await lockWallet(client, userId)
        checkGrant(balance, points)
        return appendEntry(client, userId, kind, points, { reason, actor })
      })
    },

    hold(userId, holdKey, points) {
      return withTransaction(pool, (client) => holdIn(client, userId, holdKey, points))
    },

    settle(holdKey, charge) {
      return withTransaction(pool, (client) => settleIn(client, holdKey, charge))
    },

    async openHolds() {
      const { rows } = await pool.query<{
        hold_key: string
        user_id: string
        points: string
        task_id: string | null
      }>('SELECT hold_key, user_id, points, task_id FROM open_holds ORDER BY seq')
      return rows.map((r) => ({
        holdKey: r.hold_key,
        userId: r.user_id,
        points: Number(r.points),
        taskId: r.task_id ?? undefined,
      }))
    },

    async verify() {
      const audit = new LedgerAudit()
      let after = 0
      for (;;) {
        const { rows } = await pool.query<{ seq: string; record: LedgerEntry }>(
          'SELECT seq, record FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
          [after, VERIFY_BATCH],
        )
        for (const { record } of rows) audit.entry(record)
        if (rows.length < VERIFY_BATCH) break
        after = Number(rows[rows.length - 1].seq)
      }
      const { rows: wallets } = await pool.query<{ user_id: string; balance: string; frozen: string }>(
        'SELECT user_id, balance, frozen FROM wallets ORDER BY user_id',
      )
      for (const row of wallets) audit.cachedWallet(row.user_id, numbers(row))
      return audit.differences()
    },
  }
}

function numbers(row: { balance: string; frozen: string } | undefined) {
  return row ? { balance: Number(row.balance), frozen: Number(row.frozen) } : { balance: 0, frozen: 0 }
}
