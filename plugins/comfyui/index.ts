/**
 * The `comfyui` provider: runs an API-format workflow on a ComfyUI server,
 * submit-then-poll (it has no `invoke`, so Gantry always queues the prompt
 * and polls it). Load it with GANTRY_PLUGINS=./plugins/comfyui/index.ts;
 * see README.md beside this file.
 */
import { defineProvider } from '../../core/contract.js'
import { cancelPrompt } from './cancel.js'
import { models } from './models.js'
import { pollPrompt } from './poll.js'
import { queueStatus } from './queue.js'
import { abilityConfigSchema, configSchema } from './schema.js'
import { submitPrompt } from './submit.js'

export { type ComfyModels, models } from './models.js'
export { queueStatus } from './queue.js'

export default defineProvider({
  name: 'comfyui',
  version: '1.0.0',
  configSchema,
  abilityConfigSchema,
  submit: submitPrompt,
  poll: pollPrompt,
  cancel: cancelPrompt,
  // for operators: GET /api/admin/executors/:id/queue-status and /models
  inspect: {
    queue: queueStatus,
    models: async (config) => ({ ...(await models(config)) }),
  },
})
