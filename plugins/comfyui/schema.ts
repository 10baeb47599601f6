/** The config schemas Gantry checks when definitions load, so a typo fails at start, not at the first call. */

// a binding target: a node id, then the path inside that node ('6.inputs.text')
const target = { type: 'string', pattern: '^[^.]+\\.inputs\\.[^.]+$' }
const duration = {
  anyOf: [
    { type: 'integer', minimum: 1 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' },
  ],
}

export const configSchema = {
  type: 'object',
  required: ['baseUrl'],
  properties: {
    baseUrl: { type: 'string', pattern: '^https?://' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    timeout: duration,
  },
  additionalProperties: false,
}

export const abilityConfigSchema = {
  type: 'object',
  required: ['workflow'],
  properties: {
    // inline API-format JSON, or a path (absolute, or relative to Gantry's working directory)
    workflow: { anyOf: [{ type: 'object' }, { type: 'string', minLength: 1 }] },
    bindings: { type: 'object', additionalProperties: target },
    images: { type: 'object', additionalProperties: target },
    outputs: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
  additionalProperties: false,
}
