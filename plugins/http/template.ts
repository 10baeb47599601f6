/**
 * `{{ path }}` templates over `{inputs, config, media, externalId}`: plain
 * substitution, no expressions, nothing evaluated.
 *
 * @example
 * ```ts
 * renderValue({ strength: '{{inputs.strength}}', note: 'x={{inputs.x}}' }, { inputs: { strength: 0.5 } })
 * // { strength: 0.5, note: 'x=' }
 * ```
 */
import { readPath } from './paths.js'

export type TemplateScope = Record<string, unknown>

const WHOLE = /^\{\{\s*([^{}]+?)\s*\}\}$/
const PART = /\{\{\s*([^{}]+?)\s*\}\}/g

const asText = (value: unknown): string => {
  if (value === undefined || value === null) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/** A string with every `{{x}}` replaced by its text; a missing value becomes ''. */
export function renderText(
  template: string,
  scope: TemplateScope,
  encode: (text: string) => string = (t) => t,
): string {
  return template.replace(PART, (_, path: string) => encode(asText(readPath(scope, path))))
}

/**
 * A url: substituted values are percent-encoded, so an id cannot add path
 * segments; a url that is exactly one `{{x}}` is taken as written.
 */
export function renderUrl(template: string, scope: TemplateScope): string {
  const whole = WHOLE.exec(template)
  if (whole) return asText(readPath(scope, whole[1]))
  return renderText(template, scope, encodeURIComponent)
}

/**
 * A JSON-like value rendered deeply. A string that is exactly one `{{x}}`
 * keeps x's type (a number stays a number); a key or item whose value is
 * missing is dropped, so optional inputs do not become empty strings.
 */
export function renderValue(template: unknown, scope: TemplateScope): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template)
    return whole ? readPath(scope, whole[1]) : renderText(template, scope)
  }
  if (Array.isArray(template)) {
    return template.map((item) => renderValue(item, scope)).filter((item) => item !== undefined)
  }
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(template)) {
      const rendered = renderValue(value, scope)
      if (rendered !== undefined) out[key] = rendered
    }
    return out
  }
  return template
}
