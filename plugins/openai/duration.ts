/** `timeout` as YAML writes it (`90s`, `500ms`, `2m`) or a number of milliseconds. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/

/** Milliseconds, or `fallback` when the value is absent or not a duration. */
export function toMs(value: unknown, fallback: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  if (typeof value !== 'string') return fallback
  const match = DURATION.exec(value)
  return match ? Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 'ms']) : fallback
}
