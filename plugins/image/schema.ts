/**
 * What executors and abilities on the `image` provider may put in `config`,
 * checked when definitions load so a misspelled key is an error with
 * `file:line:col`. The same names work as inputs, where the provider checks
 * the same bounds.
 */
import type { JsonSchema } from '../../core/contract.js'
import { OUTPUT_FORMATS } from './encode.js'
import { OPERATION_NAMES } from './operations/index.js'
import { MAX_SIDE } from './operations/resize.js'
import { COLOR, POSITIONS } from './operations/watermark-svg.js'

/** Operation parameters: an executor may set defaults for all its abilities, an ability its own. */
const parameters = {
  operation: { enum: OPERATION_NAMES },
  format: { enum: [...OUTPUT_FORMATS] },
  quality: { type: 'integer', minimum: 1, maximum: 100 },
  // white_background
  threshold: { type: 'number', minimum: 1, maximum: 254 },
  margin: { type: 'integer', minimum: 0, maximum: 4096 },
  // enhance
  sharpen: { type: 'number', minimum: 0, maximum: 10 },
  brightness: { type: 'number', minimum: 0.2, maximum: 3 },
  saturation: { type: 'number', minimum: 0, maximum: 3 },
  contrast: { type: 'number', minimum: 0.2, maximum: 3 },
  offset: { type: 'number', minimum: -128, maximum: 128 },
  // resize
  width: { type: 'integer', minimum: 1, maximum: MAX_SIDE },
  height: { type: 'integer', minimum: 1, maximum: MAX_SIDE },
  fit: { enum: ['cover', 'contain', 'inside'] },
  // watermark
  text: { type: 'string', minLength: 1, maxLength: 200 },
  opacity: { type: 'number', minimum: 0, maximum: 1 },
  position: { enum: [...POSITIONS] },
  fontSize: { type: 'integer', minimum: 6, maximum: 1024 },
  color: { type: 'string', pattern: COLOR.source },
}

export const abilityConfigSchema: JsonSchema = {
  type: 'object',
  properties: parameters,
  additionalProperties: false,
}

/** The executor's config; only it may let image URLs reach private addresses (see fetch-image.ts). */
export const configSchema: JsonSchema = {
  type: 'object',
  properties: { ...parameters, allowPrivateUrls: { type: 'boolean' } },
  additionalProperties: false,
}
