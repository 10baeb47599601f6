/**
 * References across files, and which version of each file is in force.
 *
 * A file is taken whole or not at all. Its newest version is tried first; if
 * that has any error, the last version that was good stays in force; if that
 * no longer fits either (its executor is gone, say), the file contributes
 * nothing. Refusing one file can break another, so the check repeats until
 * nothing more is refused.
 */
import { checkConfig } from './build-defs.js'
import { checkStepInputs } from './build-workflow.js'
import type { Problem } from './definition-error.js'
import type { LoadedDef, ParsedFile } from './loaded.js'
import type { AbilityDef, DefinitionError, ExecutorDef, ProviderInfo, WorkflowDef } from './types.js'

export interface FileVersions {
  /** Absolute path; the list is sorted by it. */
  file: string
  current: ParsedFile
  lastGood?: ParsedFile
}

export interface ResolveInput {
  files: readonly FileVersions[]
  /** `Kind:id` to the file that defined it in the previous set; that file keeps it over newcomers. */
  incumbents: ReadonlyMap<string, string>
  providers: ReadonlyMap<string, ProviderInfo>
}

export interface Resolved {
  executors: Map<string, ExecutorDef>
  abilities: Map<string, AbilityDef>
  workflows: Map<string, WorkflowDef>
  /** The version in force per file (absent: none). */
  inForce: Map<string, ParsedFile>
  /** Errors of refused files, by absolute path. */
  errors: Map<string, DefinitionError[]>
}

export const defKey = (d: { kind: string; id: string }) => `${d.kind}:${d.id}`

export function resolveDefinitions(input: ResolveInput): Resolved {
  const inForce = new Map<string, ParsedFile>()
  const errors = new Map<string, DefinitionError[]>()
  for (const f of input.files) {
    if (f.current.errors.length) {
      errors.set(f.file, f.current.errors)
      if (f.lastGood) inForce.set(f.file, f.lastGood)
    } else {
      inForce.set(f.file, f.current)
    }
  }

  for (;;) {
    const check = checkVersions(input, inForce)
    // refuse one file at a time: refusing it may bring back a definition another file was missing
    const failing = input.files.find((f) => check.errors.has(f.file))
    if (!failing) return { ...check.sets, inForce, errors }
    const version = inForce.get(failing.file)
    const fallback = version === failing.current ? failing.lastGood : undefined
    if (!errors.has(failing.file)) errors.set(failing.file, check.errors.get(failing.file)!)
    if (fallback && fallback !== version) inForce.set(failing.file, fallback)
    else inForce.delete(failing.file)
  }
}

interface Owner {
  file: string
  def: LoadedDef
}

function checkVersions(input: ResolveInput, inForce: ReadonlyMap<string, ParsedFile>) {
  const errors = new Map<string, DefinitionError[]>()
  const fail = (file: string, d: LoadedDef, p: Problem) => {
    const list = errors.get(file) ?? []
    const schemaPath = p.schemaPath ? { schemaPath: p.schemaPath } : {}
    list.push({ ...d.at(p.path, p.mode), message: p.message, ...schemaPath, kind: d.kind, id: d.id })
    errors.set(file, list)
  }

  const candidates = new Map<string, Owner[]>()
  for (const f of input.files) {
    for (const def of inForce.get(f.file)?.defs ?? []) {
      const list = candidates.get(defKey(def)) ?? []
      list.push({ file: f.file, def })
      candidates.set(defKey(def), list)
    }
  }
  const winners = new Map<string, Owner>()
  for (const [key, owners] of candidates) {
    const incumbent = input.incumbents.get(key)
    const winner = owners.find((o) => o.file === incumbent) ?? owners[0]
    winners.set(key, winner)
    for (const loser of owners) {
      if (loser === winner) continue
      const { file, line, col } = winner.def.def.source
      const message = `duplicate ${loser.def.kind} id '${loser.def.id}' (also defined in ${file}:${line}:${col})`
      fail(loser.file, loser.def, { path: ['id'], message })
    }
  }

  const sets = collect(winners)
  for (const { file, def: d } of winners.values()) {
    if (d.kind === 'Ability') {
      const executor = sets.executors.get(d.def.executorId)
      if (!executor) {
        fail(file, d, { path: ['executor'], message: `unknown executor '${d.def.executorId}'` })
        continue
      }
      const schema = input.providers.get(executor.provider)?.abilityConfigSchema
      if (!schema) continue
      const what = `provider '${executor.provider}' abilityConfigSchema`
      for (const p of checkConfig(d.def.config, schema, what)) fail(file, d, p)
    } else if (d.kind === 'Workflow') {
      d.def.steps.forEach((step, i) => {
        if (!sets.abilities.has(step.ability)) {
          const message = `unknown ability '${step.ability}' in step '${step.id}'`
          fail(file, d, { path: ['steps', i, 'ability'], message })
        }
      })
      for (const p of checkStepInputs(d.def, sets.abilities)) fail(file, d, p)
    }
  }
  return { errors, sets }
}

function collect(winners: ReadonlyMap<string, Owner>) {
  const executors = new Map<string, ExecutorDef>()
  const abilities = new Map<string, AbilityDef>()
  const workflows = new Map<string, WorkflowDef>()
  for (const { def: d } of winners.values()) {
    if (d.kind === 'Executor') executors.set(d.id, d.def)
    else if (d.kind === 'Ability') abilities.set(d.id, d.def)
    else workflows.set(d.id, d.def)
  }
  return { executors, abilities, workflows }
}
