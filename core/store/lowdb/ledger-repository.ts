import { checkGrant } from '../../ledger/limits.js'
import { insufficientCredits, LedgerAudit, settlementOf } from '../../ledger/rules.js'
import {
  applyEntry,
  type LedgerEntry,
  type LedgerKind,
  newEntry,
  round,
  type Wallet,
  walletOf,
} from '../../model/ledger.js'
import type { LedgerDifference, LedgerRepository, OpenHold, Page } from '../../model/store.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { Journal } from './journal.js'
import type { JournaledCollection } from './journaled-collection.js'
import type { SegmentRef } from './segment-log.js'

/** Entries applied to the cached wallets before they are written, and how to take them back. */
export interface StagedEntries {
  entries: LedgerEntry[]
  undo(): void
}

/**
 * The ledger in the journal. Wallets and open holds are kept in memory and
 * changed only by `stage*`, synchronously: the check that a wallet covers a
 * hold and the hold itself happen with nothing in between, so no interleaving
 * of requests can overdraw it. When the write then fails, the change is taken
 * back (see `stage`). Entries are read back from the journal for pages.
 */
export class LowdbLedgerRepository implements LedgerRepository {
  private readonly wallets = new Map<string, { balance: number; frozen: number }>()
  private readonly holds = new Map<string, OpenHold>()
  private readonly byUser = new Map<string, { seq: number; id: string }[]>()
  /** Keys of holds staged but not yet written. */
  private readonly unwritten = new Set<string>()
  private seq = 0

  constructor(
    private readonly journal: Journal,
    private readonly entries: JournaledCollection<LedgerEntry>,
  ) {}

  /** While the journal is replayed: entries in order rebuild wallets and open holds. */
  noteReplayed(entry: LedgerEntry): void {
    this.account(entry)
  }

  async wallet(userId: string): Promise<Wallet> {
    return walletOf(userId, this.wallets.get(userId) ?? { balance: 0, frozen: 0 })
  }

  async list(query: { userId?: string; limit: number; cursor?: string }): Promise<Page<LedgerEntry>> {
    const source = query.userId
      ? (this.byUser.get(query.userId) ?? [])
      : [...this.byUser.values()].flat().sort((a, b) => a.seq - b.seq)
    const before = decodeCursor<number>(query.cursor) ?? Number.POSITIVE_INFINITY
    const picked: { seq: number; id: string }[] = []
    for (let i = source.length - 1; i >= 0 && picked.length <= query.limit; i--) {
      if (source[i].seq < before) picked.push(source[i])
    }
    const page = picked.slice(0, query.limit)
    const items = (await Promise.all(page.map((p) => this.entries.get(p.id)))).filter(
      (e): e is LedgerEntry => !!e,
    )
    return picked.length > query.limit
      ? { items, nextCursor: encodeCursor(page[page.length - 1].seq) }
      : { items }
  }

  async grant(
    userId: string,
    points: number,
    reason: string,
    actor: string,
    kind: 'grant' | 'adjust' = 'grant',
  ) {
    // checked and staged with nothing in between: two grants at once cannot pass the limit together
    const { balance } = this.wallets.get(userId) ?? { balance: 0 }
    checkGrant(balance, points)
    const staged = this.stage(userId, kind, points, { reason, actor })
    await this.commit(staged)
    return staged.entries[0]
  }

  async hold(userId: string, holdKey: string, points: number): Promise<LedgerEntry | undefined> {
    const staged = this.stageHold(userId, holdKey, points)
    if (staged) await this.commit(staged)
    return staged?.entries[0]
  }

  async settle(holdKey: string, charge: number): Promise<LedgerEntry[]> {
    const staged = this.stageSettle(holdKey, charge)
    if (staged.entries.length) await this.commit(staged)
    return staged.entries
  }

  /** Holds whose `hold` entry is written: one still being written may yet be taken back, so nothing releases it. */
  async openHolds(): Promise<OpenHold[]> {
    return [...this.holds.values()].filter((hold) => !this.unwritten.has(hold.holdKey))
  }

  async verify(): Promise<LedgerDifference[]> {
    const audit = new LedgerAudit()
    for (const key of this.entries.entries.keys()) {
      const entry = await this.entries.get(key)
      if (entry) audit.entry(entry)
    }
    for (const [userId, wallet] of this.wallets) audit.cachedWallet(userId, wallet)
    return audit.differences()
  }

  /** A hold, if the wallet covers it (none for 0 points); throws INSUFFICIENT_CREDITS otherwise. */
  stageHold(userId: string, holdKey: string, points: number, taskId?: string): StagedEntries | undefined {
    if (points <= 0 || this.holds.has(holdKey)) return undefined
    const wallet = this.wallets.get(userId) ?? { balance: 0, frozen: 0 }
    const available = round(wallet.balance - wallet.frozen)
    if (available < points) throw insufficientCredits(points, available)
    return this.stage(userId, 'hold', points, { holdKey, taskId })
  }

  /** Closes a hold: `charge` of it committed, the rest released; beyond the hold, an adjustment as far as the wallet covers. Nothing if already closed. */
  stageSettle(holdKey: string, charge: number): StagedEntries {
    const hold = this.holds.get(holdKey)
    if (!hold) return { entries: [], undo() {} }
    const link = { holdKey, taskId: hold.taskId }
    const wallet = this.wallets.get(hold.userId) ?? { balance: 0, frozen: 0 }
    // staged synchronously: no other settle can spend what this one counts on
    const available = round(wallet.balance - wallet.frozen)
    const staged = settlementOf(hold.points, charge, available).map(({ kind, points, reason }) =>
      this.stage(hold.userId, kind, points, { ...link, ...(reason ? { reason } : {}) }),
    )
    return {
      entries: staged.flatMap((s) => s.entries),
      undo: () => {
        for (let i = staged.length - 1; i >= 0; i--) staged[i].undo()
      },
    }
  }

  /** Writes staged entries (alone; a task repository writes them with its own records). */
  async commit(staged: StagedEntries): Promise<void> {
    const ref = await this.journal.commit(
      staged.entries.map((e) => this.entries.op(e)),
      staged.undo,
    )
    this.applied(staged.entries, ref)
  }

  op(entry: LedgerEntry) {
    return this.entries.op(entry)
  }

  applied(entries: LedgerEntry[], ref: SegmentRef) {
    this.entries.applied(entries, ref)
    for (const entry of entries)
      if (entry.kind === 'hold' && entry.holdKey) this.unwritten.delete(entry.holdKey)
  }

  /**
   * Applies an entry to the cached wallet and holds at once; `undo` puts them back as
   * they were, for when its write fails (undos run newest first, so each finds the state it left).
   */
  private stage(
    userId: string,
    kind: LedgerKind,
    points: number,
    extra: Partial<LedgerEntry>,
  ): StagedEntries {
    const before = this.wallets.get(userId)
    const holdBefore = extra.holdKey ? this.holds.get(extra.holdKey) : undefined
    const after = applyEntry(before ?? { balance: 0, frozen: 0 }, { kind, points })
    const entry = newEntry(userId, kind, points, extra, after)
    this.account(entry)
    if (kind === 'hold' && entry.holdKey) this.unwritten.add(entry.holdKey)
    return {
      entries: [entry],
      undo: () => {
        if (before) this.wallets.set(userId, before)
        else this.wallets.delete(userId)
        if (entry.holdKey) {
          if (holdBefore) this.holds.set(entry.holdKey, holdBefore)
          else this.holds.delete(entry.holdKey)
          if (kind === 'hold') this.unwritten.delete(entry.holdKey)
        }
        const list = this.byUser.get(userId) ?? []
        const at = list.findLastIndex((e) => e.id === entry.id)
        if (at >= 0) list.splice(at, 1)
      },
    }
  }

  private account(entry: LedgerEntry) {
    const before = this.wallets.get(entry.userId) ?? { balance: 0, frozen: 0 }
    this.wallets.set(entry.userId, applyEntry(before, entry))
    if (entry.kind === 'hold' && entry.holdKey) {
      this.holds.set(entry.holdKey, {
        holdKey: entry.holdKey,
        userId: entry.userId,
        points: entry.points,
        taskId: entry.taskId,
      })
    } else if ((entry.kind === 'commit' || entry.kind === 'release') && entry.holdKey) {
      this.holds.delete(entry.holdKey)
    }
    let list = this.byUser.get(entry.userId)
    if (!list) this.byUser.set(entry.userId, (list = []))
    list.push({ seq: ++this.seq, id: entry.id })
  }
}
