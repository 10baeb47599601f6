/**
 * The `image` provider: local image processing with sharp (libvips). The
 * work is CPU-bound, which is why it runs on Gantry's worker pool rather
 * than beside the HTTP server. See README.md beside this file.
 */
import { defineProvider, type InvokeContext, type ProviderResult } from '../../core/contract.js'
import { type Encoded, encode, outputOptionsOf, toDataUrl } from './encode.js'
import { invalidInput } from './errors.js'
import { loadImageBytes } from './load-image.js'
import { OPERATION_NAMES, OPERATIONS, type OperationName } from './operations/index.js'
import { settingsOf } from './params.js'
import { decodePicture } from './picture.js'
import { abilityConfigSchema, configSchema } from './schema.js'

// the ability's config wins here, unlike for parameters: an ability priced as a resize stays a resize
function operationOf(ctx: InvokeContext): OperationName {
  const name = ctx.config.operation ?? ctx.inputs.operation
  if (typeof name === 'string' && name in OPERATIONS) return name as OperationName
  throw invalidInput(`operation must be one of ${OPERATION_NAMES.join(', ')}`)
}

function toResult(operation: OperationName, out: Encoded): ProviderResult {
  const { mimeType, width, height, format } = out
  return {
    images: [{ url: toDataUrl(out), mimeType, width, height }],
    // the bytes are in `images` already; the log keeps only their size
    raw: { operation, width, height, bytes: out.data.length, format },
    usage: { images: 1 },
  }
}

export default defineProvider({
  name: 'image',
  version: '1.0.0',
  configSchema,
  abilityConfigSchema,

  async invoke(ctx) {
    const operation = operationOf(ctx)
    const settings = settingsOf(ctx)
    ctx.progress(5, 'decode')
    const picture = await decodePicture(await loadImageBytes(ctx))
    // a bad format or quality fails before any processing
    const output = outputOptionsOf(settings, picture.format)
    ctx.signal.throwIfAborted()
    ctx.progress(35, 'process')
    const pipeline = await OPERATIONS[operation](picture, settings)
    ctx.signal.throwIfAborted()
    ctx.progress(70, 'encode')
    const encoded = await encode(pipeline, output)
    ctx.progress(100, 'done')
    return toResult(operation, encoded)
  },
})
