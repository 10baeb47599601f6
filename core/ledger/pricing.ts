import type { Pricing } from '../definitions/types.js'

export interface PriceLine {
  rule: string
  points: number
}

export interface Estimate {
  points: number
  breakdown: PriceLine[]
}

/** A rule matches when every key of `when` equals the input's value (an array in `when` means any of). */
function matches(when: Record<string, unknown>, inputs: Record<string, unknown>): boolean {
  return Object.entries(when).every(([key, expected]) => {
    const actual = inputs[key]
    if (Array.isArray(expected)) return expected.some((e) => e === actual)
    return actual === expected
  })
}

/** The price of a call before it runs: `base` plus every `add` rule whose `when` matches the inputs. */
export function estimatePrice(pricing: Pricing | undefined, inputs: Record<string, unknown>): Estimate {
  if (!pricing) return { points: 0, breakdown: [] }
  const breakdown: PriceLine[] = [{ rule: 'base', points: pricing.base }]
  for (const rule of pricing.add ?? []) {
    if (matches(rule.when, inputs)) breakdown.push({ rule: JSON.stringify(rule.when), points: rule.points })
  }
  return { points: breakdown.reduce((sum, line) => sum + line.points, 0), breakdown }
}
