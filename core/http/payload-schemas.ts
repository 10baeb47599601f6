import { Ajv2020 } from 'ajv/dist/2020.js'

const ajv = new Ajv2020({ strict: true, allErrors: true })

const stringMap = { type: 'object', additionalProperties: { type: 'string' } }

/** `AbilityInvokePayload` (CONTRACT §3). */
export const invokePayloadSchema = {
  type: 'object',
  properties: {
    inputs: { type: 'object' },
    imageUrl: { type: 'string', minLength: 1 },
    imageBase64: { type: 'string', minLength: 1 },
    images: { type: 'array', items: { type: 'string' } },
    executorId: { type: 'string', minLength: 1 },
    metadata: { type: 'object' },
    callbackUrl: { type: 'string', minLength: 1 },
    callbackHeaders: stringMap,
  },
  additionalProperties: false,
}

export const validateInvokePayload = ajv.compile(invokePayloadSchema)

/** `POST /api/ability-tasks`: the invoke payload with `abilityId` and `priority`. */
export const taskBodySchema = {
  ...invokePayloadSchema,
  required: ['abilityId'],
  properties: {
    ...invokePayloadSchema.properties,
    abilityId: { type: 'string', minLength: 1 },
    priority: { anyOf: [{ enum: ['standard', 'accelerated'] }, { type: 'integer' }] },
  },
}

export const validateTaskBody = ajv.compile(taskBodySchema)
