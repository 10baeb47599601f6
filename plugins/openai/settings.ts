/**
 * One call's settings: the merged config, with `model`, `temperature` and
 * `maxTokens` taken from the inputs when the caller sent them, and the
 * prompts rendered. Everything a request needs, checked once.
 */
import { type InvokeContext, ProviderError } from '../../core/contract.js'
import { toMs } from './duration.js'
import { renderTemplate } from './template.js'

export interface ChatMessage {
  role: string
  content: string
  name?: string
}

export type ResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict: true } }

export interface ChatSettings {
  /** `{baseUrl}/chat/completions`. */
  url: string
  apiKey?: string
  organization?: string
  timeoutMs: number
  body: {
    model: string
    messages: ChatMessage[]
    temperature?: number
    max_tokens?: number
    response_format?: ResponseFormat
  }
  /** The schema a JSON answer must match, when `jsonSchema` is set. */
  jsonSchema?: Record<string, unknown>
}

const DEFAULT_TIMEOUT_MS = 120_000
const DEFAULT_MESSAGES: ChatMessage[] = [{ role: 'user', content: '{{inputs.prompt}}' }]

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** OpenAI wants `^[a-zA-Z0-9_-]{1,64}$`; a schema's `title` is the natural name. */
function schemaName(schema: Record<string, unknown>): string {
  const title = str(schema.title)
    ?.replace(/[^a-zA-Z0-9_-]+/g, '_')
    .slice(0, 64)
  return title || 'answer'
}

function responseFormatOf(config: Record<string, unknown>): ResponseFormat | undefined {
  const schema = config.jsonSchema
  if (schema && typeof schema === 'object' && !Array.isArray(schema)) {
    const s = schema as Record<string, unknown>
    return { type: 'json_schema', json_schema: { name: schemaName(s), schema: s, strict: true } }
  }
  return config.json === true ? { type: 'json_object' } : undefined
}

function messagesOf(config: Record<string, unknown>, inputs: Record<string, unknown>): ChatMessage[] {
  const listed = Array.isArray(config.messages) ? (config.messages as ChatMessage[]) : DEFAULT_MESSAGES
  const messages = listed.map((m) => ({ ...m, content: renderTemplate(String(m.content), inputs) }))
  const system = str(config.system)
  return system ? [{ role: 'system', content: renderTemplate(system, inputs) }, ...messages] : messages
}

export function settingsOf(ctx: InvokeContext): ChatSettings {
  const { config, inputs } = ctx
  const baseUrl = str(config.baseUrl)
  if (!baseUrl) throw new ProviderError('config.baseUrl is not set', { retryable: false })
  const model = str(inputs.model) ?? str(config.model)
  if (!model) throw new ProviderError('no model: set config.model or inputs.model', { retryable: false })
  const responseFormat = responseFormatOf(config)
  return {
    url: `${baseUrl.replace(/\/+$/, '')}/chat/completions`,
    apiKey: str(config.apiKey),
    organization: str(config.organization),
    timeoutMs: toMs(config.timeout, DEFAULT_TIMEOUT_MS),
    body: {
      model,
      messages: messagesOf(config, inputs),
      temperature: num(inputs.temperature) ?? num(config.temperature),
      max_tokens: num(inputs.maxTokens) ?? num(config.maxTokens),
      ...(responseFormat ? { response_format: responseFormat } : {}),
    },
    jsonSchema: responseFormat?.type === 'json_schema' ? responseFormat.json_schema.schema : undefined,
  }
}
