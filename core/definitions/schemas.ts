/**
 * The JSON Schemas (draft 2020-12) of the three YAML kinds, compiled once in
 * strict mode. `additionalProperties: false` at the top of each kind turns a
 * typo (`maxConcurency`) into an error instead of a silently ignored key.
 */

import type { ValidateFunction } from 'ajv/dist/2020.js'
import Ajv2020 from 'ajv/dist/2020.js'
import { durationSchema } from '../duration.js'
import type { DefinitionKind } from './types.js'

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$'

// shared fragments are inlined rather than `$ref`ed so every schema path reads from the document root
const id = { type: 'string', pattern: ID_PATTERN }
const retry = {
  type: 'object',
  required: ['max'],
  properties: {
    max: { type: 'integer', minimum: 0 },
    backoff: durationSchema,
  },
  additionalProperties: false,
}

// submit-then-poll providers: how often to ask, and for how long at most
const poll = {
  type: 'object',
  properties: {
    interval: durationSchema,
    maxDuration: durationSchema,
  },
  additionalProperties: false,
}

const common = {
  id,
  description: { type: 'string' },
  timeout: durationSchema,
  retry,
  poll,
}

// the keys Gantry itself reads from a config (contract.ts GantryConfigKeys): checked here,
// and left out when a config is checked against its provider's schema
const config = {
  type: 'object',
  properties: { async: { type: 'boolean' }, mediaHosts: { type: 'array', items: { type: 'string' } } },
}

export const executorSchema = {
  type: 'object',
  required: ['kind', 'id', 'provider'],
  properties: {
    ...common,
    kind: { const: 'Executor' },
    provider: { type: 'string', minLength: 1 },
    maxConcurrency: { type: 'integer', minimum: 1, default: 1 },
    queueTimeout: durationSchema,
    config,
  },
  additionalProperties: false,
}

export const abilitySchema = {
  type: 'object',
  required: ['kind', 'id', 'executor'],
  properties: {
    ...common,
    kind: { const: 'Ability' },
    name: { type: 'string' },
    executor: id,
    type: { type: 'string', minLength: 1 },
    input: { type: 'object', default: { type: 'object' } },
    queueTimeout: durationSchema,
    pricing: {
      type: 'object',
      properties: {
        base: { type: 'number', minimum: 0 },
        add: {
          type: 'array',
          items: {
            type: 'object',
            required: ['when', 'points'],
            properties: { when: { type: 'object' }, points: { type: 'number' } },
            additionalProperties: false,
          },
        },
        // points per unit the provider reports (work whose cost is known only at the end)
        usage: {
          type: 'object',
          properties: {
            perSecond: { type: 'number', minimum: 0 },
            perInputToken: { type: 'number', minimum: 0 },
            perOutputToken: { type: 'number', minimum: 0 },
            perToken: { type: 'number', minimum: 0 },
            perImage: { type: 'number', minimum: 0 },
            reserve: { type: 'number', minimum: 0 },
          },
          additionalProperties: false,
        },
        allowOverEstimate: { type: 'boolean' },
      },
      additionalProperties: false,
    },
    config,
    tags: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: false,
}

const stepSchema = {
  type: 'object',
  required: ['id', 'ability'],
  properties: {
    id: id,
    ability: id,
    with: { type: 'object' },
    needs: { type: 'array', items: { type: 'string' } },
    if: { type: ['string', 'boolean'] },
    forEach: { type: ['string', 'array'] },
    // a fan-out's cost grows with its items: a list longer than this fails (or is refused at the start)
    maxItems: { type: 'integer', minimum: 1 },
    retry: retry,
    timeout: durationSchema,
    continueOnError: { type: 'boolean' },
    parse: { enum: ['json'] },
    weight: { type: 'number', minimum: 0 },
  },
  additionalProperties: false,
}

export const workflowSchema = {
  type: 'object',
  required: ['kind', 'id', 'steps'],
  properties: {
    kind: { const: 'Workflow' },
    id: id,
    name: { type: 'string' },
    description: { type: 'string' },
    input: { type: 'object' },
    steps: { type: 'array', minItems: 1, items: stepSchema },
    output: { type: 'object' },
    singleton: { type: 'string' },
  },
  additionalProperties: false,
}

export const KINDS: readonly DefinitionKind[] = ['Executor', 'Ability', 'Workflow']

// verbose: ajv-errors recognizes a failed duration by its schema object
const ajv = new Ajv2020.default({ strict: true, allErrors: true, allowUnionTypes: true, verbose: true })

/** One compiled validator per kind. */
export const kindValidators: Record<DefinitionKind, ValidateFunction> = {
  Executor: ajv.compile(executorSchema),
  Ability: ajv.compile(abilitySchema),
  Workflow: ajv.compile(workflowSchema),
}
