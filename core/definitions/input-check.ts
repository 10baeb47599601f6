/** `checkInput` for abilities and workflows: validate a copy, apply defaults, report JSON pointers. */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import type { InputCheck } from './types.js'

/** Wraps a compiled `input` schema; the caller's object is never touched. */
export function createInputCheck(validate: ValidateFunction): (inputs: unknown) => InputCheck {
  return function checkInput(inputs) {
    let copy: unknown
    try {
      // absent inputs mean "none given", so defaults can still fill them in
      copy = inputs === undefined ? {} : structuredClone(inputs)
    } catch {
      return { ok: false, errors: [{ path: '', message: 'must be plain JSON data' }] }
    }
    if (validate(copy)) return { ok: true, inputs: copy as Record<string, unknown> }
    return { ok: false, errors: (validate.errors ?? []).map(toInputError) }
  }
}

function toInputError(e: ErrorObject): { path: string; message: string } {
  // a missing or unexpected field is reported at the field, not at its parent object
  const params = e.params as { missingProperty?: string; additionalProperty?: string }
  const field =
    e.keyword === 'required'
      ? params.missingProperty
      : e.keyword === 'additionalProperties'
        ? params.additionalProperty
        : undefined
  const path = field === undefined ? e.instancePath : `${e.instancePath}/${escapePointer(field)}`
  const message =
    e.keyword === 'additionalProperties' ? `unknown property '${field}'` : (e.message ?? 'is invalid')
  return { path, message }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** Top-level `properties.*.default`, for listings. */
export function schemaDefaults(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties
  if (typeof properties !== 'object' || properties === null) return {}
  const defaults: Record<string, unknown> = {}
  for (const [name, prop] of Object.entries(properties)) {
    if (typeof prop === 'object' && prop !== null && 'default' in prop) {
      defaults[name] = structuredClone((prop as { default: unknown }).default)
    }
  }
  return defaults
}
