/**
 * Compiling schemas written by users (an ability's `input`) and by plugins (a
 * provider's `configSchema`). Strict, so a misspelled keyword is reported
 * rather than ignored, but tolerant of type combinations people write in practice.
 */

import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { explainAjvErrors } from './ajv-errors.js'

export type CompiledSchema = { ok: true; validate: ValidateFunction } | { ok: false; message: string }

function createAjv(useDefaults: boolean) {
  const ajv = new Ajv2020.default({
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allErrors: true,
    useDefaults,
  })
  addFormats.default(ajv)
  return ajv
}

// inputs get defaults applied; configs do not, so an ability's config defaults never mask the executor's values
const withDefaults = createAjv(true)
const withoutDefaults = createAjv(false)

/** Compiles `schema`; the ajv instance forgets it right away so reloads neither leak nor clash on `$id`. */
export function compileUserSchema(schema: unknown, opts: { useDefaults: boolean }): CompiledSchema {
  const ajv = opts.useDefaults ? withDefaults : withoutDefaults
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return { ok: false, message: 'must be an object' }
  }
  // checked against the meta-schema first: ajv's own message for that case is a list of raw pointers
  if (!ajv.validateSchema(schema)) return { ok: false, message: describeMetaErrors(ajv.errors ?? []) }
  try {
    const validate = ajv.compile(schema)
    return { ok: true, validate }
  } catch (err) {
    return { ok: false, message: (err as Error).message }
  } finally {
    forget(ajv, schema)
  }
}

function forget(ajv: Ajv2020.default, schema: object) {
  try {
    ajv.removeSchema(schema)
  } catch {
    // a schema that failed before being added leaves nothing to remove
  }
}

/** One line per offending keyword, first reason only: `properties.size.type must be one of ...`. */
function describeMetaErrors(errors: ErrorObject[]): string {
  const byPath = new Map<string, string>()
  for (const p of explainAjvErrors(errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf'))) {
    const key = p.path.join('/')
    if (!byPath.has(key)) byPath.set(key, p.message)
  }
  return [...byPath.values()].join('; ')
}

const providerCache = new WeakMap<object, CompiledSchema>()

/** Plugin schemas do not change while Gantry runs, so each is compiled once. */
export function compileProviderSchema(schema: Record<string, unknown>): CompiledSchema {
  let compiled = providerCache.get(schema)
  if (!compiled) {
    compiled = compileUserSchema(schema, { useDefaults: false })
    providerCache.set(schema, compiled)
  }
  return compiled
}
