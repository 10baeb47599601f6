import { GantryError } from '../errors.js'

/** `standard` and `accelerated` (README, Definitions: pricing), or any integer; higher runs first. */
export const NAMED_PRIORITIES: Record<string, number> = { standard: 0, accelerated: 10 }

export function parsePriority(value: unknown): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'string' && value in NAMED_PRIORITIES) return NAMED_PRIORITIES[value]
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 1_000_000) return value
  throw new GantryError('VALIDATION_FAILED', "priority must be 'standard', 'accelerated' or an integer")
}
