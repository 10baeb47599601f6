/**
 * An example third-party provider: upper-cases a text. Load it with
 * GANTRY_PLUGINS=./plugins/example-shout/index.ts and refer to it from an
 * executor with `provider: shout`.
 */
import { defineProvider, ProviderError } from '../../core/contract.js'

export default defineProvider({
  name: 'shout',
  version: '1.0.0',
  configSchema: { type: 'object', properties: { suffix: { type: 'string' } }, additionalProperties: false },
  async invoke(ctx) {
    const text = ctx.inputs.text
    if (typeof text !== 'string')
      throw new ProviderError('inputs.text must be a string', { retryable: false })
    ctx.progress(50, 'shouting')
    if (ctx.signal.aborted) throw new ProviderError('canceled', { retryable: false })
    const suffix = typeof ctx.config.suffix === 'string' ? ctx.config.suffix : '!'
    return { texts: [text.toUpperCase() + suffix], raw: { length: text.length } }
  },
})
