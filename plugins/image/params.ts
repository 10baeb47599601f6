/**
 * Reading operation parameters. The caller's inputs are merged over the
 * ability's config, and every value is checked against the provider's own
 * bounds, because an ability's `input` schema may be looser than what is
 * safe to hand to libvips.
 */
import type { InvokeContext } from '../../core/contract.js'
import { invalidInput } from './errors.js'

export type Settings = Record<string, unknown>

/** Inputs over config: a caller tunes what the ability author left open. */
export const settingsOf = (ctx: InvokeContext): Settings => ({ ...ctx.config, ...ctx.inputs })

/** A number within [min, max], or `fallback` when absent. */
export function numberParam(s: Settings, name: string, min: number, max: number, fallback: number): number {
  return optionalNumber(s, name, min, max) ?? fallback
}

/** A number within [min, max], or undefined when absent. */
export function optionalNumber(s: Settings, name: string, min: number, max: number): number | undefined {
  const value = s[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidInput(`${name} must be a number from ${min} to ${max}`)
  }
  return value
}

/** An integer within [min, max], or undefined when absent. */
export function optionalInteger(s: Settings, name: string, min: number, max: number): number | undefined {
  const value = optionalNumber(s, name, min, max)
  if (value !== undefined && !Number.isInteger(value)) throw invalidInput(`${name} must be an integer`)
  return value
}

/** One of `values`, or `fallback` when absent. */
export function enumParam<T extends string>(s: Settings, name: string, values: readonly T[], fallback: T): T {
  const value = s[name]
  if (value === undefined || value === null) return fallback
  if (!values.includes(value as T)) throw invalidInput(`${name} must be one of ${values.join(', ')}`)
  return value as T
}

/** A non-empty string of at most `maxLength`, or `fallback` when absent. */
export function stringParam(
  s: Settings,
  name: string,
  maxLength: number,
  fallback?: string,
): string | undefined {
  const value = s[name]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw invalidInput(`${name} must be a string of 1 to ${maxLength} characters`)
  }
  return value
}
