import type { EventBus } from '../events/bus.js'
import { chargeFor } from '../ledger/pricing.js'
import { round, type Wallet } from '../model/ledger.js'
import type { Store } from '../model/store.js'
import type { AbilityTask } from '../model/task.js'
import { priceOf } from '../run/call-outcome.js'
import type { PreparedCall } from '../run/prepare-call.js'
import type { WorkerReply } from '../run/worker-protocol.js'

/** A task's credits as its owner sees them: what it is charged, and `wallet.points` events. */
export function createTaskCredits(store: Store, bus: EventBus) {
  function announce(
    wallet: Wallet,
    taskId: string,
    status: 'frozen' | 'committed' | 'released',
    points: number,
  ) {
    bus.emit('wallet.points', {
      userId: wallet.userId,
      taskId,
      status,
      points,
      balance: wallet.balance,
      available: wallet.available,
    })
  }

  return {
    async announceHold(task: AbilityTask, points: number) {
      announce(await store.ledger.wallet(task.userId), task.id, 'frozen', points)
    },

    /** After a task's end was written: what its hold became, committed and released. */
    async announceSettled(task: AbilityTask, before: Wallet) {
      const after = await store.ledger.wallet(task.userId)
      if (after.frozen === before.frozen && after.balance === before.balance) return
      const spent = round(before.balance - after.balance)
      const released = round(before.frozen - after.frozen - spent)
      if (spent > 0) announce(after, task.id, 'committed', spent)
      if (released > 0) announce(after, task.id, 'released', released)
    },

    /**
     * What a successful call asks of the wallet: its final price, capped at the hold unless
     * the ability allows more. The store caps what goes beyond the hold, under the wallet's lock.
     */
    chargeOf(call: PreparedCall, reply: WorkerReply): number {
      if (!call.ability.pricing) return 0
      return chargeFor(call.ability.pricing, priceOf(call, reply), call.estimate.hold)
    },
  }
}
