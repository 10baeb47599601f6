import { str } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'

const ajv = new Ajv2020({ strict: true, allErrors: true })

// the size of a free-form object as the stores and events will carry it; safe to serialize,
// since every body passed the depth bounds (json-bounds.ts) before any schema sees it
ajv.addKeyword({
  keyword: 'maxJsonBytes',
  type: 'object',
  schemaType: 'number',
  errors: false,
  error: { message: ({ schemaCode }) => str`must be at most ${schemaCode} bytes as JSON` },
  validate: (max: number, data: unknown) => Buffer.byteLength(JSON.stringify(data)) <= max,
})

/** What `metadata` may weigh: it is echoed in every view, event and callback of its task. */
export const METADATA_MAX_BYTES = 64 * 1024

/**
 * Headers Gantry sends with a callback: names are HTTP tokens (RFC 9110 §5.6.2),
 * values hold no control characters (so no CR/LF to inject another header).
 */
export const callbackHeadersSchema = {
  type: 'object',
  maxProperties: 32,
  propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$" },
  additionalProperties: { type: 'string', maxLength: 4096, pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$' },
}

/** `AbilityInvokePayload` (README, HTTP API). */
export const invokePayloadSchema = {
  type: 'object',
  properties: {
    inputs: { type: 'object' },
    imageUrl: { type: 'string', minLength: 1 },
    imageBase64: { type: 'string', minLength: 1 },
    images: { type: 'array', items: { type: 'string' } },
    executorId: { type: 'string', minLength: 1 },
    metadata: { type: 'object', maxJsonBytes: METADATA_MAX_BYTES },
    callbackUrl: { type: 'string', minLength: 1 },
    callbackHeaders: callbackHeadersSchema,
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

/** How long a `projectId` may be: it is stored with the job and matched in every list query. */
export const PROJECT_ID_MAX_LENGTH = 256

/**
 * `POST /api/workflows/:id/jobs` (README, HTTP API): `params` are free-form here and
 * checked by the workflow's own input schema; any other field is refused.
 */
export const jobStartSchema = {
  type: 'object',
  properties: {
    projectId: { type: 'string', maxLength: PROJECT_ID_MAX_LENGTH },
    params: { type: 'object' },
    callbackUrl: { type: 'string', minLength: 1 },
    callbackHeaders: callbackHeadersSchema,
  },
  additionalProperties: false,
}

export const validateJobStart = ajv.compile(jobStartSchema)

/** `POST /api/credits/estimate`: the price depends on the inputs alone (checked by the ability's schema). */
export const estimateBodySchema = {
  type: 'object',
  required: ['abilityId'],
  properties: {
    abilityId: { type: 'string', minLength: 1 },
    inputs: { type: 'object' },
  },
  additionalProperties: false,
}

export const validateEstimateBody = ajv.compile(estimateBodySchema)

/** `POST /api/admin/wallets/:userId/grant`: the range of `points` and a blank `reason` are checked by the route. */
export const grantBodySchema = {
  type: 'object',
  required: ['points', 'reason'],
  properties: {
    points: { type: 'number' },
    reason: { type: 'string' },
  },
  additionalProperties: false,
}

export const validateGrantBody = ajv.compile(grantBodySchema)
