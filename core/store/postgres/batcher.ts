/**
 * Many small writes as one statement. Calls made in the same turn of the
 * event loop are gathered and stored together: one round trip and one commit
 * instead of one each, which is what bounds a node's task throughput. If a
 * batch fails, each of its writes is tried alone, so one bad write fails only
 * its own caller.
 */
interface Waiting<I, O> {
  item: I
  resolve(out: O): void
  reject(err: unknown): void
}

export interface BatcherOptions<I, O> {
  /** Stores every item in one statement; returns each item's result, in order. */
  many(items: I[]): Promise<O[]>
  /** Stores one item (a batch of one, and the fallback of a failed batch). */
  one(item: I): Promise<O>
  /** At most this many items per statement. */
  max?: number
}

export function createBatcher<I, O>(opts: BatcherOptions<I, O>): (item: I) => Promise<O> {
  const max = opts.max ?? 500
  let pending: Waiting<I, O>[] = []
  let scheduled = false

  function flush() {
    scheduled = false
    const all = pending
    pending = []
    for (let i = 0; i < all.length; i += max) void run(all.slice(i, i + max))
  }

  async function run(batch: Waiting<I, O>[]) {
    if (batch.length === 1) {
      const [w] = batch
      return opts.one(w.item).then(w.resolve, w.reject)
    }
    let results: O[]
    try {
      results = await opts.many(batch.map((w) => w.item))
    } catch {
      // one at a time, in order: two changes of one task must land as they were asked
      for (const w of batch) await opts.one(w.item).then(w.resolve, w.reject)
      return
    }
    for (const [i, w] of batch.entries()) w.resolve(results[i])
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject })
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    })
}
