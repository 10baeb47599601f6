import { GantryError } from '../errors.js'

/** `?limit=`: 1 to `max`, `fallback` when absent. */
export function pageLimit(raw: string | undefined, fallback = 50, max = 200): number {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new GantryError('VALIDATION_FAILED', `limit must be an integer from 1 to ${max}`)
  }
  return n
}
