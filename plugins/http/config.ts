/**
 * The shape of the `http` provider's config, as TypeScript types and as the
 * JSON Schema Gantry checks executor and ability configs against when
 * definitions load. See ./README.md for what each field does.
 */
import type { JsonSchema } from '../../core/contract.js'

/** One HTTP request; every string is a `{{ }}` template. */
export interface RequestSpec {
  method?: string
  url: string
  query?: Record<string, unknown>
  headers?: Record<string, unknown>
  json?: unknown
  multipart?: Record<string, unknown>
}

/** Paths into a JSON answer for each part of the result. */
export interface ResponseMapping {
  images?: string
  videos?: string
  assets?: string
  texts?: string
  usage?: Record<string, string>
  /** A value here in a 2xx answer means the platform refused the call. */
  errorPath?: string
}

export type StatusList = string | string[]

export interface SubmitPollSpec {
  idPath: string
  poll: RequestSpec
  statusPath: string
  statusMap?: { running?: StatusList; succeeded?: StatusList; failed?: StatusList }
  progressPath?: string
  stagePath?: string
  etaPath?: string
  errorPath?: string
  result?: ResponseMapping
  cancel?: RequestSpec
}

export interface HttpConfig {
  baseUrl?: string
  headers?: Record<string, unknown>
  /** Per request: milliseconds, or a duration such as `30s`. */
  timeout?: number | string
  request?: RequestSpec
  response?: ResponseMapping
  submitPoll?: SubmitPollSpec
  /** Read by Gantry: `true` runs the call as submit-then-poll. */
  async?: boolean
  /** Let multipart file parts be downloaded from loopback and private addresses. */
  allowPrivateFileUrls?: boolean
  /** Read by Gantry: private hosts it may fetch result media from, to keep its own copy. */
  mediaHosts?: string[]
}

const path = { type: 'string' }
const templates = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }
const statusList = {
  anyOf: [{ type: ['string', 'number'] }, { type: 'array', items: { type: ['string', 'number'] } }],
}

const request = {
  type: 'object',
  required: ['url'],
  properties: {
    method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
    url: { type: 'string', minLength: 1 },
    query: { type: 'object' },
    headers: templates,
    json: {},
    multipart: { type: 'object' },
  },
  not: { required: ['json', 'multipart'] },
  additionalProperties: false,
}

const mapping = {
  type: 'object',
  properties: {
    images: path,
    videos: path,
    assets: path,
    texts: path,
    usage: { type: 'object', additionalProperties: path },
    errorPath: path,
  },
  additionalProperties: false,
}

const submitPoll = {
  type: 'object',
  required: ['idPath', 'poll', 'statusPath'],
  properties: {
    idPath: path,
    poll: request,
    statusPath: path,
    statusMap: {
      type: 'object',
      properties: { running: statusList, succeeded: statusList, failed: statusList },
      additionalProperties: false,
    },
    progressPath: path,
    stagePath: path,
    etaPath: path,
    errorPath: path,
    result: mapping,
    cancel: request,
  },
  additionalProperties: false,
}

/**
 * One schema for both executor and ability config: Gantry merges the
 * ability's config over the executor's, so either may hold any field.
 */
export const configSchema: JsonSchema = {
  type: 'object',
  properties: {
    baseUrl: { type: 'string', pattern: '^https?://' },
    headers: templates,
    timeout: {
      anyOf: [
        { type: 'number', exclusiveMinimum: 0 },
        { type: 'string', pattern: '^\\d+(ms|s|m)?$' },
      ],
    },
    request,
    response: mapping,
    submitPoll,
    async: { type: 'boolean' },
    allowPrivateFileUrls: { type: 'boolean' },
    mediaHosts: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: false,
}

const DEFAULT_TIMEOUT_MS = 60_000
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }

/** `config.timeout` in milliseconds (a bare number string is milliseconds too). */
export function timeoutMsOf(config: HttpConfig): number {
  const { timeout } = config
  if (typeof timeout === 'number' && timeout > 0) return timeout
  const match = typeof timeout === 'string' ? /^(\d+)(ms|s|m)?$/.exec(timeout) : null
  return match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms'] : DEFAULT_TIMEOUT_MS
}
