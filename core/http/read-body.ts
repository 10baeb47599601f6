import type { ErrorObject, ValidateFunction } from 'ajv'
import type { Context } from 'hono'
import { GantryError } from '../errors.js'
import { checkJsonBounds, findTooDeep } from './json-bounds.js'

interface FieldProblem {
  path: string
  message: string
}

const invalidBody = (details: FieldProblem[]) =>
  new GantryError(
    'VALIDATION_FAILED',
    `invalid body: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
    { details },
  )

/**
 * Parses a JSON object body; malformed JSON is a 400 with a code, never a crash.
 * Every body is held to the JSON bounds here, before any route sees it, so
 * nothing deep or unstorable reaches a hold, an idempotency record or a store.
 */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  const tooDeep = findTooDeep(text)
  if (tooDeep) throw invalidBody([{ path: tooDeep.path || '/', message: tooDeep.message }])
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new GantryError('VALIDATION_FAILED', `malformed JSON body: ${(err as Error).message}`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GantryError('VALIDATION_FAILED', 'the body must be a JSON object')
  }
  const problem = checkJsonBounds(value)
  if (problem) throw invalidBody([{ path: problem.path || '/', message: problem.message }])
  return value as Record<string, unknown>
}

/** Parses and checks a body against a compiled schema; errors name their fields. */
export async function readBody<T>(c: Context, validate: ValidateFunction): Promise<T> {
  const body = await readJsonObject(c)
  if (!validate(body)) {
    // a bad key gives two errors, the key's own and a summary one: the first says it all
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'propertyNames')
    throw invalidBody(errors.map((e) => ({ path: e.instancePath || '/', message: messageOf(e) })))
  }
  return body as T
}

function messageOf(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown field '${e.params.additionalProperty}'`
  const message = e.message ?? 'invalid'
  return e.propertyName === undefined ? message : `key '${e.propertyName}' ${message}`
}
