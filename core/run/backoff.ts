/** Exponential backoff with jitter: the n-th retry waits about base * 2^(n-1), between half and all of it. */
export function backoffDelay(baseMs: number, attempt: number, maxMs = 5 * 60_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  // jitter, so that retries of a burst of failures do not arrive together
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/** Waits, or rejects when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
