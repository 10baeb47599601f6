/**
 * What the `openai` provider accepts in YAML. The executor holds the endpoint
 * and the key; an ability shapes the conversation. Both are checked when
 * definitions load, so a misspelled key is an error with `file:line:col`.
 */
import type { JsonSchema } from '../../core/contract.js'

const duration = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' },
  ],
}

const message = {
  type: 'object',
  required: ['role', 'content'],
  properties: {
    role: { enum: ['system', 'developer', 'user', 'assistant'] },
    content: { type: 'string' },
    name: { type: 'string' },
  },
  additionalProperties: false,
}

/** Settings an executor and an ability may both set; the ability's win. */
const shared = {
  model: { type: 'string', minLength: 1 },
  timeout: duration,
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  maxTokens: { type: 'integer', minimum: 1 },
  system: { type: 'string' },
  messages: { type: 'array', minItems: 1, items: message },
  json: { type: 'boolean' },
  jsonSchema: { type: 'object' },
}

export const configSchema: JsonSchema = {
  type: 'object',
  required: ['baseUrl'],
  properties: {
    baseUrl: { type: 'string', pattern: '^https?://' },
    apiKey: { type: 'string' },
    organization: { type: 'string' },
    ...shared,
  },
  additionalProperties: false,
}

// the endpoint and its key stay on the executor, so an ability cannot point a key at another host
export const abilityConfigSchema: JsonSchema = {
  type: 'object',
  properties: shared,
  additionalProperties: false,
}
