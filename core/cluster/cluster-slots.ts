/**
 * Slots for sync calls when nodes share a queue: the local scheduler first
 * (priority and FIFO among this node's calls), then a lease counted with
 * every node's calls and claimed tasks. A call that finds the executor full
 * cluster-wide retries with a growing pause; across nodes the order is not
 * strict.
 */
import { GantryError } from '../errors.js'
import type { SlotLeases } from '../model/cluster.js'
import { sleep } from '../run/backoff.js'
import type { Scheduler, SlotRequest } from '../run/scheduler.js'

export type SlotSource = Pick<Scheduler, 'acquire'>

const FIRST_PAUSE_MS = 2
const LONGEST_PAUSE_MS = 100

export function clusterSlots(local: Scheduler, leases: SlotLeases, onRelease?: () => void): SlotSource {
  return {
    async acquire(req: SlotRequest) {
      const releaseLocal = await local.acquire(req)
      try {
        for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
          const lease = await leases.take(req.executorId, req.maxConcurrency)
          if (lease) return releaser(releaseLocal, () => leases.give(lease), onRelease)
          await sleep(pause, req.signal).catch(() => {
            throw new GantryError('CANCELED', 'call canceled while waiting for its executor')
          })
        }
      } catch (err) {
        releaseLocal()
        throw err
      }
    },
  }
}

function releaser(releaseLocal: () => void, give: () => Promise<void>, onRelease?: () => void) {
  let released = false
  return () => {
    if (released) return
    released = true
    releaseLocal()
    // a lease that cannot be given back runs out on its own
    give()
      .catch(() => {})
      .finally(() => onRelease?.())
  }
}
