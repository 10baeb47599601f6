/**
 * Ajv errors turned into messages a person editing YAML can act on, each with
 * the path of the node to point at. With `allErrors`, a failed `anyOf` also
 * reports every branch's failure; those are folded into one line.
 */
import type { ErrorObject } from 'ajv/dist/2020.js'
import { durationSchema } from '../duration.js'
import { type LocateMode, type PathSegment, pointerToPath } from './yaml-source.js'

export interface SchemaProblem {
  /** Where the node is in the document. */
  path: PathSegment[]
  mode: LocateMode
  message: string
  schemaPath: string
}

const DURATION_HINT = 'must be a duration such as 500ms, 30s, 10m, 1h or a number of milliseconds'

/** `base` is where the validated value sits in the document (`['config']` for a provider's config). */
export function explainAjvErrors(errors: readonly ErrorObject[], base: PathSegment[] = []): SchemaProblem[] {
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  const isBranchOf = (e: ErrorObject) =>
    alternatives.some(
      (alt) =>
        alt !== e &&
        e.instancePath.startsWith(alt.instancePath) &&
        e.schemaPath.startsWith(`${alt.schemaPath}/`),
    )
  return errors.filter((e) => !isBranchOf(e)).map((e) => explainOne(e, base))
}

function explainOne(e: ErrorObject, base: PathSegment[]): SchemaProblem {
  const path = [...base, ...pointerToPath(e.instancePath)]
  const schemaPath = e.schemaPath
  if (e.keyword === 'additionalProperties') {
    const name = String((e.params as { additionalProperty: string }).additionalProperty)
    const where = path.length ? ` in ${label(path)}` : ''
    return { path: [...path, name], mode: 'key', message: `unknown property '${name}'${where}`, schemaPath }
  }
  return { path, mode: 'value', message: withLabel(path, describe(e)), schemaPath }
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'anyOf' && e.parentSchema === durationSchema) return DURATION_HINT
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues
    return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
  }
  if (e.keyword === 'const')
    return `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`
  return e.message ?? `fails '${e.keyword}'`
}

function withLabel(path: PathSegment[], message: string): string {
  return path.length ? `${label(path)} ${message}` : message
}

/** `steps[0].with.text`, the way a reader would name the field. */
export function label(path: readonly PathSegment[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number' || /^\d+$/.test(seg)) out += `[${seg}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}
