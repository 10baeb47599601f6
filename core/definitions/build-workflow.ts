/**
 * A schema-valid Workflow document to a definition. Checks within the
 * workflow live here: step ids, `needs` (known steps, no cycles) and
 * templates (well formed, reading only steps they need). Whether each step's
 * ability exists and gets its required inputs is for resolve.ts, since
 * abilities come from other files (`checkStepInputs`).
 */
import { parseDuration } from '../duration.js'
import { references, TemplateError } from '../workflows/template.js'
import { type BuildContext, compileInput, dropUndefined, toRetry } from './build-defs.js'
import type { Problem } from './definition-error.js'
import type { AbilityDef, SourceRef, WorkflowDef, WorkflowStepDef } from './types.js'
import type { PathSegment, YamlPath } from './yaml-source.js'

type Doc = Record<string, any>

export interface WorkflowContext extends BuildContext {
  at(path: YamlPath): SourceRef
}

export function buildWorkflow(doc: Doc, ctx: WorkflowContext): { def: WorkflowDef; problems: Problem[] } {
  const problems: Problem[] = []
  const input = (doc.input ?? { type: 'object' }) as Record<string, unknown>
  const checkInput = compileInput(input, problems)
  const docs = doc.steps as Doc[]
  const steps = docs.map((step, i) => buildStep(step, docs[i - 1]?.id, ctx.at(['steps', i])))
  // only what the author wrote is checked for unknown steps; the implied previous step always exists
  const written = docs.map((step) => step.needs as string[] | undefined)
  const stepProblems = checkSteps(steps, written)
  // with duplicate ids or unknown needs the graph is not what the author meant: report those first
  if (!stepProblems.length) stepProblems.push(...checkCycles(steps, written), ...checkTemplates(doc, steps))
  problems.push(...stepProblems)
  const def: WorkflowDef = {
    id: doc.id,
    name: doc.name ?? doc.id,
    description: doc.description ?? '',
    input,
    steps,
    output: doc.output,
    singleton: doc.singleton,
    source: ctx.source,
    checkInput,
  }
  return { def: dropUndefined(def), problems }
}

function buildStep(step: Doc, previousId: string | undefined, source: SourceRef): WorkflowStepDef {
  return dropUndefined({
    id: step.id,
    ability: step.ability,
    with: step.with ?? {},
    // always explicit, so the engine never guesses: omitted means after the previous step, `[]` at the start
    needs: step.needs ?? (previousId === undefined ? [] : [previousId]),
    if: step.if,
    forEach: step.forEach,
    maxItems: step.maxItems,
    retry: toRetry(step.retry),
    timeoutMs: parseDuration(step.timeout),
    continueOnError: step.continueOnError ?? false,
    parse: step.parse,
    weight: step.weight,
    source,
  })
}

/** Duplicate step ids and `needs` naming no step of this workflow (or the step itself). */
function checkSteps(steps: WorkflowStepDef[], written: (string[] | undefined)[]): Problem[] {
  const problems: Problem[] = []
  const ids = new Set(steps.map((s) => s.id))
  const seen = new Set<string>()
  steps.forEach((step, i) => {
    if (step.maxItems !== undefined && step.forEach === undefined)
      problems.push({
        path: ['steps', i, 'maxItems'],
        message: `step '${step.id}' has maxItems but no forEach`,
      })
    if (seen.has(step.id))
      problems.push({ path: ['steps', i, 'id'], message: `duplicate step id '${step.id}'` })
    seen.add(step.id)
    written[i]?.forEach((need, j) => {
      const path = ['steps', i, 'needs', j]
      if (need === step.id) problems.push({ path, message: `step '${step.id}' cannot need itself` })
      else if (!ids.has(need))
        problems.push({ path, message: `step '${step.id}' needs unknown step '${need}'` })
    })
  })
  return problems
}

/** Each cycle of `needs` once, as `a -> b -> a`, at the needs of its step that comes first in the file. */
function checkCycles(steps: WorkflowStepDef[], written: (string[] | undefined)[]): Problem[] {
  const order = new Map(steps.map((s, i) => [s.id, i]))
  const state = new Map<string, 'open' | 'done'>()
  const trail: string[] = []
  const problems: Problem[] = []
  const visit = (id: string) => {
    state.set(id, 'open')
    trail.push(id)
    for (const need of steps[order.get(id)!].needs ?? []) {
      // a step needing itself is reported by checkSteps
      if (need === id || !order.has(need)) continue
      if (state.get(need) === 'open')
        problems.push(cycleProblem(trail.slice(trail.indexOf(need)), order, written))
      else if (!state.has(need)) visit(need)
    }
    trail.pop()
    state.set(id, 'done')
  }
  for (const step of steps) if (!state.has(step.id)) visit(step.id)
  return problems
}

function cycleProblem(
  cycle: string[],
  order: ReadonlyMap<string, number>,
  written: (string[] | undefined)[],
): Problem {
  const first = cycle.reduce((a, b) => (order.get(b)! < order.get(a)! ? b : a))
  const start = cycle.indexOf(first)
  const names = [...cycle.slice(start), ...cycle.slice(0, start), first]
  // a need the author did not write is the likely surprise: say where it comes from
  const implied = names.find((id) => written[order.get(id)!] === undefined)
  const hint = implied
    ? ` ('${implied}' has no needs, so it runs after the step before it; give it needs: [] to start at once)`
    : ''
  return {
    path: ['steps', order.get(first)!, 'needs'],
    message: `steps form a cycle: ${names.join(' -> ')}${hint}`,
  }
}

/** Templates that do not parse, or read a step that is unknown or not (transitively) needed. */
function checkTemplates(doc: Doc, steps: WorkflowStepDef[]): Problem[] {
  const byId = new Map(steps.map((s) => [s.id, s]))
  const problems: Problem[] = []
  const check = (
    value: unknown,
    path: PathSegment[],
    who: string,
    allowed: (stepId: string) => string | undefined,
    itemOk: boolean,
  ) => {
    for (const [at, text] of strings(value, path)) {
      const refs = parseRefs(text, at, problems)
      for (const ref of refs) {
        let message: string | undefined
        if (ref.root === 'steps' && !byId.has(ref.stepId!))
          message = `${who} uses steps.${ref.stepId}, which is not a step of this workflow`
        else if (ref.root === 'steps') message = allowed(ref.stepId!)
        else if ((ref.root === 'item' || ref.root === 'index') && !itemOk)
          message = `${who} uses ${ref.root}, which only the with and if of a forEach step can use`
        if (message && !problems.some((p) => p.message === message && samePath(p.path, at)))
          problems.push({ path: at, message })
      }
    }
  }
  steps.forEach((step, i) => {
    const deps = dependenciesOf(step, byId)
    const who = `step '${step.id}'`
    const allowed = (id: string) =>
      id === step.id
        ? `${who} uses its own steps.${id}`
        : deps.has(id)
          ? undefined
          : `${who} uses steps.${id} but does not need it`
    const hasForEach = step.forEach !== undefined
    check(step.with, ['steps', i, 'with'], who, allowed, hasForEach)
    check(step.if, ['steps', i, 'if'], who, allowed, hasForEach)
    check(step.forEach, ['steps', i, 'forEach'], who, allowed, false)
  })
  // the job's output and singleton key may read any step
  check(doc.output, ['output'], 'output', () => undefined, false)
  check(doc.singleton, ['singleton'], 'singleton', () => undefined, false)
  return problems
}

function parseRefs(text: string, path: PathSegment[], problems: Problem[]) {
  try {
    return references(text)
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err
    problems.push({ path, message: err.message })
    return []
  }
}

/** Every step `step` runs after, through `needs` of `needs`. */
function dependenciesOf(step: WorkflowStepDef, byId: ReadonlyMap<string, WorkflowStepDef>): Set<string> {
  const deps = new Set<string>()
  const queue = [...(step.needs ?? [])]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (deps.has(id) || !byId.has(id)) continue
    deps.add(id)
    queue.push(...(byId.get(id)!.needs ?? []))
  }
  return deps
}

/** Each string inside `value` with its YAML path. */
function* strings(value: unknown, path: PathSegment[]): Generator<[PathSegment[], string]> {
  if (typeof value === 'string') yield [path, value]
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* strings(value[i], [...path, i])
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* strings(v, [...path, k])
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((seg, i) => seg === b[i])
}

/**
 * Steps whose `with` leaves out an input their ability requires and has no
 * default for. Needs the abilities, so resolve.ts calls it; problems point at
 * the step's `with` (or the step when it has none).
 */
export function checkStepInputs(
  workflow: WorkflowDef,
  abilities: ReadonlyMap<string, AbilityDef>,
): Problem[] {
  const problems: Problem[] = []
  workflow.steps.forEach((step, i) => {
    const input = abilities.get(step.ability)?.input
    if (!input) return
    const required = Array.isArray(input.required) ? (input.required as unknown[]) : []
    const properties = (input.properties ?? {}) as Record<string, { default?: unknown } | undefined>
    const missing = required.filter(
      (key): key is string =>
        typeof key === 'string' &&
        !Object.hasOwn(step.with, key) &&
        !(properties[key] && typeof properties[key] === 'object' && 'default' in properties[key]),
    )
    if (!missing.length) return
    const names = missing.map((k) => `'${k}'`).join(', ')
    const message = `step '${step.id}' does not give ability '${step.ability}' its required input${missing.length > 1 ? 's' : ''} ${names}`
    problems.push({ path: ['steps', i, 'with'], message })
  })
  return problems
}
