/**
 * A chat completion response to Gantry's result: the first choice's text,
 * the token counts for usage pricing, and the response itself as `raw`.
 */
import { ProviderError, type ProviderResult, type Usage } from '../../core/contract.js'
import { checkJsonAnswer, parseJsonAnswer } from './json-answer.js'
import type { ChatSettings } from './settings.js'

interface Choice {
  message?: { content?: unknown; refusal?: unknown }
  finish_reason?: unknown
}

function usageOf(response: Record<string, unknown>): Usage | undefined {
  const u = response.usage as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined
  if (!u || typeof u !== 'object') return undefined
  const usage: Usage = {}
  if (typeof u.prompt_tokens === 'number') usage.inputTokens = u.prompt_tokens
  if (typeof u.completion_tokens === 'number') usage.outputTokens = u.completion_tokens
  return Object.keys(usage).length ? usage : undefined
}

function contentOf(response: Record<string, unknown>): string {
  const choice = (Array.isArray(response.choices) ? response.choices[0] : undefined) as Choice | undefined
  const { content, refusal } = choice?.message ?? {}
  if (typeof content === 'string') return content
  if (typeof refusal === 'string')
    throw new ProviderError(`the model refused: ${refusal}`, { retryable: false, details: { refusal } })
  const finish = choice?.finish_reason
  throw new ProviderError(`the response has no message content (finish_reason: ${String(finish)})`, {
    retryable: false,
  })
}

export function toResult(response: Record<string, unknown>, settings: ChatSettings): ProviderResult {
  let text = contentOf(response)
  if (settings.body.response_format) {
    const value = parseJsonAnswer(text)
    if (settings.jsonSchema) checkJsonAnswer(value, settings.jsonSchema, text)
    // compact and fence-free, so `parse: json` steps and clients get plain JSON
    text = JSON.stringify(value)
  }
  const usage = usageOf(response)
  return { texts: [text], raw: response, ...(usage ? { usage } : {}) }
}
