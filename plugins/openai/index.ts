/**
 * The `openai` provider: any OpenAI-compatible chat completions endpoint
 * (OpenAI, Azure-style proxies, vLLM, Ollama, LM Studio). Load it with
 * GANTRY_PLUGINS=./plugins/openai/index.ts; see README.md beside this file.
 */
import { defineProvider } from '../../core/contract.js'
import { toResult } from './chat-result.js'
import { createChatCompletion } from './client.js'
import { abilityConfigSchema, configSchema } from './schema.js'
import { settingsOf } from './settings.js'

export default defineProvider({
  name: 'openai',
  version: '1.0.0',
  configSchema,
  abilityConfigSchema,

  async invoke(ctx) {
    const settings = settingsOf(ctx)
    ctx.progress(0, 'waiting for the model')
    const response = await createChatCompletion(settings, ctx)
    return toResult(response, settings)
  },
})
