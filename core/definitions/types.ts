/**
 * The shapes the definitions loader hands to the rest of Gantry: executors,
 * abilities and workflows as loaded from YAML, each with where it came from,
 * and the immutable set a load or reload produces.
 */

/** Where something is in a YAML file; `file` is relative to the cwd when inside it. */
export interface SourceRef {
  file: string
  line: number
  col: number
}

/** A refused file's problem, positioned at the YAML node it is about. */
export interface DefinitionError {
  file: string
  line: number
  col: number
  message: string
  /** The JSON Schema path of the failing keyword, when a schema found it. */
  schemaPath?: string
  kind?: string
  id?: string
}

/** Submit-then-poll: ask every `intervalMs`, give up after `maxDurationMs`. */
export interface PollPolicy {
  intervalMs?: number
  maxDurationMs?: number
}

export interface RetryPolicy {
  max: number
  backoffMs: number
}

export interface PricingRule {
  when: Record<string, unknown>
  points: number
}

/** Points per unit of what the provider reports; `reserve` is added to the hold for them. */
export interface UsagePricing {
  perSecond?: number
  perInputToken?: number
  perOutputToken?: number
  perToken?: number
  perImage?: number
  reserve?: number
}

export interface Pricing {
  base: number
  add: PricingRule[]
  usage?: UsagePricing
  /** Lets the final price exceed the hold (up to what the wallet has); otherwise it is capped at the hold. */
  allowOverEstimate?: boolean
}

/** A configured provider instance. */
export interface ExecutorDef {
  id: string
  provider: string
  /** Why it cannot run yet (an unset `${env:}` variable, say); absent when it is configured. */
  notConfigured?: string[]
  maxConcurrency: number
  timeoutMs?: number
  queueTimeoutMs?: number
  retry?: RetryPolicy
  poll?: PollPolicy
  /** `${env:NAME}` already replaced. */
  config: Record<string, unknown>
  description?: string
  source: SourceRef
}

/** The outcome of checking inputs against a definition's `input` schema. */
export type InputCheck =
  | { ok: true; inputs: Record<string, unknown> }
  | { ok: false; errors: { path: string; message: string }[] }

export interface AbilityDef {
  id: string
  /** Defaults to the id. */
  name: string
  /** Defaults to ''. */
  description: string
  /** text | image | video | audio | data ...; defaults to 'data'. */
  type: string
  executorId: string
  /** The JSON Schema of `inputs`. */
  input: Record<string, unknown>
  /** Top-level `properties.*.default` of `input`, for listings. */
  defaults: Record<string, unknown>
  timeoutMs?: number
  queueTimeoutMs?: number
  retry?: RetryPolicy
  poll?: PollPolicy
  pricing?: Pricing
  /** `${env:NAME}` already replaced; not merged with the executor's. */
  config: Record<string, unknown>
  tags: string[]
  source: SourceRef
  /** Returns a deep copy with defaults applied, never mutating `inputs`; error paths are JSON pointers ('/text'). */
  checkInput(inputs: unknown): InputCheck
}

export interface WorkflowStepDef {
  id: string
  ability: string
  with: Record<string, unknown>
  needs?: string[]
  if?: unknown
  forEach?: unknown
  /** Most items a `forEach` may fan out to (else the server's GANTRY_MAX_FANOUT). */
  maxItems?: number
  retry?: RetryPolicy
  timeoutMs?: number
  continueOnError: boolean
  parse?: 'json'
  weight?: number
  source: SourceRef
}

export interface WorkflowDef {
  id: string
  name: string
  description: string
  input: Record<string, unknown>
  steps: WorkflowStepDef[]
  output?: Record<string, unknown>
  singleton?: string
  source: SourceRef
  checkInput(params: unknown): InputCheck
}

/** What the loader needs to know of a provider; a contract `Provider` fits. */
export interface ProviderInfo {
  name: string
  configSchema?: Record<string, unknown>
  abilityConfigSchema?: Record<string, unknown>
}

/** An immutable snapshot; a reload builds a new one. Calls keep the snapshot they started with. */
export interface DefinitionSet {
  version: number
  executors: ReadonlyMap<string, ExecutorDef>
  abilities: ReadonlyMap<string, AbilityDef>
  workflows: ReadonlyMap<string, WorkflowDef>
  errors: readonly DefinitionError[]
  loadedAt: string
}

export type DefinitionKind = 'Executor' | 'Ability' | 'Workflow'
