import type { ValidateFunction } from 'ajv'
import type { Context } from 'hono'
import { GantryError } from '../errors.js'

/** Parses a JSON object body; malformed JSON is a 400 with a code, never a crash. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new GantryError('VALIDATION_FAILED', `malformed JSON body: ${(err as Error).message}`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GantryError('VALIDATION_FAILED', 'the body must be a JSON object')
  }
  return value as Record<string, unknown>
}

/** Parses and checks a body against a compiled schema; errors name their fields. */
export async function readBody<T>(c: Context, validate: ValidateFunction): Promise<T> {
  const body = await readJsonObject(c)
  if (!validate(body)) {
    const details = (validate.errors ?? []).map((e) => ({
      path: e.instancePath || '/',
      message:
        e.keyword === 'additionalProperties'
          ? `unknown field '${e.params.additionalProperty}'`
          : (e.message ?? 'invalid'),
    }))
    throw new GantryError(
      'VALIDATION_FAILED',
      `invalid body: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      {
        details,
      },
    )
  }
  return body as T
}
