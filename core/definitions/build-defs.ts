/**
 * Schema-valid Executor and Ability documents to definitions: durations to
 * milliseconds, `${env:}` replaced, config checked against the provider's
 * schema, `input` compiled. Checks that need other files wait for resolve.ts.
 */
import { GANTRY_CONFIG_KEYS } from '../contract.js'
import { parseDuration } from '../duration.js'
import { explainAjvErrors } from './ajv-errors.js'
import type { Problem } from './definition-error.js'
import { substituteEnv } from './env.js'
import { createInputCheck, schemaDefaults } from './input-check.js'
import type {
  AbilityDef,
  ExecutorDef,
  InputCheck,
  PollPolicy,
  Pricing,
  ProviderInfo,
  RetryPolicy,
  SourceRef,
} from './types.js'
import { compileProviderSchema, compileUserSchema } from './user-schemas.js'
import type { PathSegment } from './yaml-source.js'

export interface BuildContext {
  providers: ReadonlyMap<string, ProviderInfo>
  env: Record<string, string | undefined>
  /** Where the document starts. */
  source: SourceRef
}

type Doc = Record<string, any>

const DEFAULT_BACKOFF_MS = 1000

export function toRetry(raw: Doc | undefined): RetryPolicy | undefined {
  if (!raw) return undefined
  return { max: raw.max, backoffMs: parseDuration(raw.backoff) ?? DEFAULT_BACKOFF_MS }
}

export function buildExecutor(doc: Doc, ctx: BuildContext): { def: ExecutorDef; problems: Problem[] } {
  const env = substituteEnv(doc.config ?? {}, ctx.env, ['config'])
  const config = env.value as Record<string, unknown>
  const problems: Problem[] = []
  // an executor whose secrets are not in this environment still loads, as not configured:
  // its abilities are listed and answer ABILITY_EXECUTOR_NOT_CONFIGURED until the variables are set
  const notConfigured = env.problems.map((p) => p.message)
  const provider = ctx.providers.get(doc.provider)
  if (!provider) {
    problems.push({ path: ['provider'], message: `unknown provider '${doc.provider}'` })
  } else if (provider.configSchema && notConfigured.length === 0) {
    problems.push(...checkConfig(config, provider.configSchema, `provider '${provider.name}' configSchema`))
  }
  const def: ExecutorDef = {
    id: doc.id,
    provider: doc.provider,
    maxConcurrency: doc.maxConcurrency ?? 1,
    timeoutMs: parseDuration(doc.timeout),
    queueTimeoutMs: parseDuration(doc.queueTimeout),
    retry: toRetry(doc.retry),
    poll: toPoll(doc.poll),
    config,
    description: doc.description,
    ...(notConfigured.length ? { notConfigured } : {}),
    source: ctx.source,
  }
  return { def: dropUndefined(def), problems }
}

export function buildAbility(doc: Doc, ctx: BuildContext): { def: AbilityDef; problems: Problem[] } {
  const env = substituteEnv(doc.config ?? {}, ctx.env, ['config'])
  const problems: Problem[] = [...env.problems]
  const input = (doc.input ?? { type: 'object' }) as Record<string, unknown>
  const compiled = compileInput(input, problems)
  const def: AbilityDef = {
    id: doc.id,
    name: doc.name ?? doc.id,
    description: doc.description ?? '',
    type: doc.type ?? 'data',
    executorId: doc.executor,
    input,
    defaults: schemaDefaults(input),
    timeoutMs: parseDuration(doc.timeout),
    queueTimeoutMs: parseDuration(doc.queueTimeout),
    retry: toRetry(doc.retry),
    poll: toPoll(doc.poll),
    pricing: toPricing(doc.pricing),
    config: env.value as Record<string, unknown>,
    tags: doc.tags ?? [],
    source: ctx.source,
    checkInput: compiled,
  }
  return { def: dropUndefined(def), problems }
}

/** Compiles an `input` schema, recording a problem at `input` when it is not one. */
export function compileInput(
  input: Record<string, unknown>,
  problems: Problem[],
): (inputs: unknown) => InputCheck {
  const compiled = compileUserSchema(input, { useDefaults: true })
  if (compiled.ok) return createInputCheck(compiled.validate)
  problems.push({ path: ['input'], message: `input is not a valid JSON Schema: ${compiled.message}` })
  return () => ({ ok: false, errors: [{ path: '', message: 'input schema is invalid' }] })
}

/**
 * Validates a `config` against a provider's schema; problems point inside the
 * YAML `config`. Gantry's own keys are left out: the document schema checks
 * them, and a provider's schema need not know them.
 */
export function checkConfig(config: unknown, schema: Record<string, unknown>, what: string): Problem[] {
  const compiled = compileProviderSchema(schema)
  if (!compiled.ok)
    return [{ path: ['config'], message: `${what} is not a valid JSON Schema: ${compiled.message}` }]
  if (compiled.validate(withoutGantryKeys(config))) return []
  return explainAjvErrors(compiled.validate.errors ?? [], ['config'] as PathSegment[])
}

function withoutGantryKeys(config: unknown): unknown {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return config
  const rest: Record<string, unknown> = { ...config }
  for (const key of GANTRY_CONFIG_KEYS) delete rest[key]
  return rest
}

function toPricing(raw: Doc | undefined): Pricing | undefined {
  if (!raw) return undefined
  return dropUndefined({
    base: raw.base ?? 0,
    add: raw.add ?? [],
    usage: raw.usage,
    allowOverEstimate: raw.allowOverEstimate,
  })
}

/** Optional fields absent rather than `undefined`, so listings and `toEqual` read cleanly. */
export function dropUndefined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key]
  return obj
}

function toPoll(poll: unknown): PollPolicy | undefined {
  if (!poll || typeof poll !== 'object') return undefined
  const p = poll as { interval?: unknown; maxDuration?: unknown }
  return dropUndefined({ intervalMs: parseDuration(p.interval), maxDurationMs: parseDuration(p.maxDuration) })
}
