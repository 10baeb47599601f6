/**
 * The `http` provider: a REST platform described entirely in YAML. A
 * `request` template says what to send, a `response` mapping how to read the
 * answer, and an optional `submitPoll` section how to follow a job the
 * platform runs on its own (submit, poll, cancel). See ./README.md.
 *
 * Load it with GANTRY_PLUGINS=./plugins/http/index.ts and refer to it from an
 * executor with `provider: http`.
 */
import { defineProvider, type InvokeContext, ProviderError } from '../../core/contract.js'
import { configSchema, type HttpConfig, type RequestSpec, type SubmitPollSpec } from './config.js'
import { readJobStatus } from './job-status.js'
import { mapAnswer } from './mapping.js'
import { readPath } from './paths.js'
import { sendRequest } from './request.js'
import type { TemplateScope } from './template.js'

export { configSchema }

const configOf = (ctx: InvokeContext) => ctx.config as HttpConfig

const scopeOf = (ctx: InvokeContext, externalId?: string): TemplateScope => ({
  inputs: ctx.inputs,
  config: ctx.config,
  media: ctx.media,
  externalId,
})

/** Mistakes in the YAML are not retried: the next attempt would make the same one. */
const misconfigured = (message: string) => new ProviderError(message, { retryable: false })

function requestOf(config: HttpConfig): RequestSpec {
  if (!config.request) throw misconfigured('config.request is missing: say which request to send')
  return config.request
}

function submitPollOf(config: HttpConfig): SubmitPollSpec {
  if (!config.submitPoll) {
    throw misconfigured(
      'this ability has no config.submitPoll section, so it cannot be run as submit-then-poll',
    )
  }
  return config.submitPoll
}

/**
 * A poll that failed on the way (a 5xx, a reset) says nothing about the job,
 * which goes on at the platform: report it running and ask again at the next
 * interval, rather than fail the attempt and submit the job a second time.
 */
function stillRunningAfter(err: unknown, ctx: InvokeContext, externalId: string) {
  const retryable = err instanceof ProviderError ? err.retryable : true
  if (!retryable || ctx.signal.aborted) throw err
  ctx.log(`poll of job ${externalId} failed, asking again: ${(err as Error).message}`)
  return { status: 'running' as const }
}

export default defineProvider({
  name: 'http',
  version: '1.0.0',
  configSchema,
  abilityConfigSchema: configSchema,

  async invoke(ctx) {
    const config = configOf(ctx)
    if (config.submitPoll) {
      // Gantry calls invoke unless the call or the config says `async: true`
      throw misconfigured(
        'this ability is submit-then-poll (config.submitPoll): set `async: true` in its config next to submitPoll',
      )
    }
    const answer = await sendRequest(requestOf(config), ctx, scopeOf(ctx))
    return mapAnswer(answer, config.response)
  },

  async submit(ctx) {
    const config = configOf(ctx)
    const spec = submitPollOf(config)
    const answer = await sendRequest(requestOf(config), ctx, scopeOf(ctx))
    const id = readPath(answer, spec.idPath)
    if ((typeof id !== 'string' && typeof id !== 'number') || id === '') {
      throw new ProviderError(`the submit answer has no job id at '${spec.idPath}'`, { retryable: false })
    }
    return { externalId: String(id), raw: answer }
  },

  async poll(ctx, externalId) {
    const config = configOf(ctx)
    const spec = submitPollOf(config)
    let answer: unknown
    try {
      answer = await sendRequest(spec.poll, ctx, scopeOf(ctx, externalId))
    } catch (err) {
      return stillRunningAfter(err, ctx, externalId)
    }
    return readJobStatus(answer, spec, config.response, externalId, (message) => ctx.log(message))
  },

  async cancel(ctx, externalId) {
    const cancel = configOf(ctx).submitPoll?.cancel
    // a platform without a cancel endpoint lets the job run out; Gantry has stopped waiting for it
    if (cancel) await sendRequest(cancel, ctx, scopeOf(ctx, externalId))
  },
})
