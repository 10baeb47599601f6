/**
 * Group commit: many callers ask for a write, one write serves them all.
 * A caller's promise resolves once a write that started after its request
 * has finished, so it never returns before its own change is on disk.
 */
export function createGroupCommit(write: () => Promise<void>): {
  request(): Promise<void>
  idle(): Promise<void>
} {
  let running: Promise<void> | undefined
  let next: { promise: Promise<void>; resolve(): void; reject(e: unknown): void } | undefined

  const runNext = () => {
    const batch = next!
    next = undefined
    running = write().then(batch.resolve, batch.reject)
    running.finally(() => {
      running = undefined
      if (next) runNext()
    })
  }

  return {
    request() {
      if (!next) {
        let resolve!: () => void
        let reject!: (e: unknown) => void
        const promise = new Promise<void>((res, rej) => {
          resolve = res
          reject = rej
        })
        next = { promise, resolve, reject }
        // wait one macrotask so that a burst of requests shares the write
        if (!running) queueMicrotask(() => !running && next && runNext())
      }
      return next.promise
    },
    async idle() {
      while (running || next) await (running ?? next?.promise)
    },
  }
}
