import type { Usage } from '../contract.js'
import type { Pricing } from '../definitions/types.js'
import { GantryError } from '../errors.js'
import { MAX_BALANCE } from './limits.js'

export interface PriceLine {
  rule: string
  points: number
}

export interface Estimate {
  points: number
  breakdown: PriceLine[]
  /** What is held when the call is accepted: the estimate plus any reserve for usage-based rules. */
  hold: number
  /** Why the provider's usage figures were not priced (the call then costs its estimate). */
  usageRefused?: string
}

/** A price no wallet could hold (rules that add up past MAX_BALANCE, or to Infinity) is refused, never held. */
const inRange = (points: number) => Number.isFinite(points) && Math.abs(points) <= MAX_BALANCE

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
  const hold = round(points + (pricing.usage?.reserve ?? 0))
  if (!inRange(points) || !inRange(hold)) {
    throw new GantryError('PRICE_OUT_OF_RANGE', `this call's price is beyond what a wallet can hold`, {
      status: 400,
      details: { max: MAX_BALANCE },
    })
  }
  return { points, breakdown, hold }
}

const USAGE_RATES: [keyof NonNullable<Pricing['usage']>, (u: Usage) => number | undefined][] = [
  ['perSecond', (u) => u.seconds],
  ['perInputToken', (u) => u.inputTokens],
  ['perOutputToken', (u) => u.outputTokens],
  ['perToken', (u) => (u.inputTokens ?? 0) + (u.outputTokens ?? 0) || u.tokens],
  ['perImage', (u) => u.images],
]

/**
 * Why a provider's usage cannot be priced, if it cannot: each figure a rate
 * reads must be a number, 0 or more (`"abc"` would price at NaN, `-5` below the estimate).
 */
function usageProblem(usage: unknown): string | undefined {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return 'usage is not an object'
  for (const unit of USAGE_UNITS) {
    const figure = (usage as Record<string, unknown>)[unit]
    if (figure === undefined) continue
    if (typeof figure !== 'number' || !Number.isFinite(figure) || figure < 0) {
      return `usage.${unit} is ${JSON.stringify(figure) ?? String(figure)}, not a number of 0 or more`
    }
  }
  return undefined
}

const USAGE_UNITS = ['seconds', 'inputTokens', 'outputTokens', 'tokens', 'images']

/**
 * The price once the call ended: the estimate plus usage-based rules applied to
 * what the provider reported. Usage that cannot be priced, or prices beyond what
 * a wallet can hold, leaves the estimate, saying why in `usageRefused`.
 */
export function finalPrice(pricing: Pricing | undefined, estimate: Estimate, usage: unknown): Estimate {
  if (!pricing?.usage || usage === undefined || usage === null) return estimate
  const problem = usageProblem(usage)
  if (problem) return { ...estimate, usageRefused: problem }
  const breakdown = [...estimate.breakdown]
  for (const [rate, measure] of USAGE_RATES) {
    const perUnit = pricing.usage[rate]
    const units = measure(usage as Usage)
    if (perUnit && units) breakdown.push({ rule: `${rate} x ${units}`, points: round(perUnit * units) })
  }
  const points = round(breakdown.reduce((sum, line) => sum + line.points, 0))
  if (!inRange(points))
    return { ...estimate, usageRefused: `usage prices at ${points}, beyond ${MAX_BALANCE}` }
  return { ...estimate, points, breakdown }
}

/**
 * What a settle is asked to charge: the final price, capped at the hold unless
 * the ability allows more. How much more the wallet covers is the store's to
 * decide, under the wallet's lock (`settlementOf`), never read beforehand.
 */
export function chargeFor(pricing: Pricing | undefined, final: number, hold: number): number {
  return pricing?.allowOverEstimate ? final : Math.min(final, hold)
}
