import type { Usage } from '../contract.js'
import type { Pricing } from '../definitions/types.js'

export interface PriceLine {
  rule: string
  points: number
}

export interface Estimate {
  points: number
  breakdown: PriceLine[]
  /** What is held when the call is accepted: the estimate plus any reserve for usage-based rules. */
  hold: number
}

/** A rule matches when every key of `when` equals the input's value (an array in `when` means any of). */
function matches(when: Record<string, unknown>, inputs: Record<string, unknown>): boolean {
  return Object.entries(when).every(([key, expected]) => {
    const actual = inputs[key]
    if (Array.isArray(expected)) return expected.some((e) => e === actual)
    return actual === expected
  })
}

const round = (points: number) => Math.round(points * 100) / 100

/** The price of a call before it runs: `base` plus every `add` rule whose `when` matches the inputs. */
export function estimatePrice(pricing: Pricing | undefined, inputs: Record<string, unknown>): Estimate {
  if (!pricing) return { points: 0, breakdown: [], hold: 0 }
  const breakdown: PriceLine[] = [{ rule: 'base', points: pricing.base }]
  for (const rule of pricing.add ?? []) {
    if (matches(rule.when, inputs)) breakdown.push({ rule: JSON.stringify(rule.when), points: rule.points })
  }
  const points = round(breakdown.reduce((sum, line) => sum + line.points, 0))
  return { points, breakdown, hold: round(points + (pricing.usage?.reserve ?? 0)) }
}

const USAGE_RATES: [keyof NonNullable<Pricing['usage']>, (u: Usage) => number | undefined][] = [
  ['perSecond', (u) => u.seconds],
  ['perInputToken', (u) => u.inputTokens],
  ['perOutputToken', (u) => u.outputTokens],
  ['perToken', (u) => (u.inputTokens ?? 0) + (u.outputTokens ?? 0) || u.tokens],
  ['perImage', (u) => u.images],
]

/** The price once the call ended: the estimate plus usage-based rules applied to what the provider reported. */
export function finalPrice(
  pricing: Pricing | undefined,
  estimate: Estimate,
  usage: Usage | undefined,
): Estimate {
  if (!pricing?.usage || !usage) return estimate
  const breakdown = [...estimate.breakdown]
  for (const [rate, measure] of USAGE_RATES) {
    const perUnit = pricing.usage[rate]
    const units = measure(usage)
    if (perUnit && units) breakdown.push({ rule: `${rate} x ${units}`, points: round(perUnit * units) })
  }
  return { ...estimate, points: round(breakdown.reduce((sum, line) => sum + line.points, 0)), breakdown }
}

/**
 * What a settle is asked to charge: the final price, capped at the hold unless
 * the ability allows more. How much more the wallet covers is the store's to
 * decide, under the wallet's lock (`settlementOf`), never read beforehand.
 */
export function chargeFor(pricing: Pricing | undefined, final: number, hold: number): number {
  return pricing?.allowOverEstimate ? final : Math.min(final, hold)
}
