/** Exponential backoff with jitter: the n-th retry waits about base * 2^(n-1), between half and all of it. */
export function backoffDelay(baseMs: number, attempt: number, maxMs = 5 * 60_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  // jitter, so that retries of a burst of failures do not arrive together
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

export { sleep } from '../contract.js'
