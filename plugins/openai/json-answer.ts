/**
 * JSON answers (`json: true` or `jsonSchema`): models still wrap JSON in
 * ``` fences or leave a trailing comma now and then, so the text is parsed,
 * repaired once if it must be, and checked against the schema. A bad answer
 * fails the call for good: the same prompt would most likely fail again.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js'
import { ProviderError } from '../../core/contract.js'

const FENCE = /```[\w-]*[ \t]*\n?([\s\S]*?)\n?\s*```/
const TRAILING_COMMA = /,(\s*[}\]])/g
const EXCERPT = 200

// not strict: the schema is the ability author's, written for the model API rather than for ajv
const ajv = new Ajv2020.default({ strict: false, allErrors: false })
const validators = new Map<string, ValidateFunction>()

const excerpt = (text: string) => (text.length > EXCERPT ? `${text.slice(0, EXCERPT)}...` : text)

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** Parses the model's text; on failure strips a fence and trailing commas and tries again. */
export function parseJsonAnswer(text: string): unknown {
  const direct = tryParse(text)
  if (direct.ok) return direct.value
  const unfenced = FENCE.exec(text)?.[1] ?? text
  // a comma before a closing bracket; this can touch a string holding ",}" but only on text that is not JSON anyway
  const repaired = tryParse(unfenced.replace(TRAILING_COMMA, '$1'))
  if (repaired.ok) return repaired.value
  throw new ProviderError(`the model's answer is not JSON: ${excerpt(text)}`, { retryable: false })
}

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema)
  let validate = validators.get(key)
  if (!validate) {
    try {
      validate = ajv.compile(schema)
    } catch (err) {
      const message = `config.jsonSchema is not a valid JSON Schema: ${(err as Error).message}`
      throw new ProviderError(message, { retryable: false })
    }
    validators.set(key, validate)
  }
  return validate
}

/** Throws a non-retryable ProviderError naming the first mismatch. */
export function checkJsonAnswer(value: unknown, schema: Record<string, unknown>, text: string): void {
  const validate = validatorFor(schema)
  if (validate(value)) return
  const first = validate.errors?.[0]
  const where = first?.instancePath || '(root)'
  throw new ProviderError(
    `the model's answer does not match jsonSchema: ${where} ${first?.message ?? 'is invalid'}: ${excerpt(text)}`,
    { retryable: false, details: { errors: validate.errors?.slice(0, 5) } },
  )
}
