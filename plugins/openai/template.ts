/**
 * `{{inputs.x}}` in prompts: a path lookup, no expressions. Only the
 * `inputs.` root is recognized, so other braces in a prompt are left as written.
 */
import { ProviderError } from '../../core/contract.js'

const PLACEHOLDER = /\{\{\s*inputs((?:\.[A-Za-z_$][\w$-]*|\[\d+\])+)\s*\}\}/g
const SEGMENT = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]/g

function lookup(inputs: Record<string, unknown>, path: string): unknown {
  let value: unknown = inputs
  for (const [, key, index] of path.matchAll(SEGMENT)) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key ?? Number(index)]
  }
  return value
}

/**
 * Replaces each placeholder with the input's value (objects as JSON). A
 * missing input fails the call rather than sending a prompt with a hole in
 * it: give optional inputs a `default` in the ability's schema.
 */
export function renderTemplate(text: string, inputs: Record<string, unknown>): string {
  return text.replace(PLACEHOLDER, (_whole, path: string) => {
    const value = lookup(inputs, path)
    if (value === undefined)
      throw new ProviderError(`the prompt uses inputs${path}, which is not set`, { retryable: false })
    if (value === null) return ''
    return typeof value === 'string' ? value : JSON.stringify(value)
  })
}
