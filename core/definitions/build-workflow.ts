/**
 * A schema-valid Workflow document to a definition. Checks within the
 * workflow (step ids, `needs`) live here; whether each step's ability exists
 * is for resolve.ts, since abilities come from other files.
 */
import { parseDuration } from '../duration.js'
import { type BuildContext, compileInput, dropUndefined, toRetry } from './build-defs.js'
import type { Problem } from './definition-error.js'
import type { SourceRef, WorkflowDef, WorkflowStepDef } from './types.js'
import type { YamlPath } from './yaml-source.js'

type Doc = Record<string, any>

export interface WorkflowContext extends BuildContext {
  at(path: YamlPath): SourceRef
}

export function buildWorkflow(doc: Doc, ctx: WorkflowContext): { def: WorkflowDef; problems: Problem[] } {
  const problems: Problem[] = []
  const input = (doc.input ?? { type: 'object' }) as Record<string, unknown>
  const checkInput = compileInput(input, problems)
  const steps = (doc.steps as Doc[]).map((step, i) => buildStep(step, ctx.at(['steps', i])))
  problems.push(...checkSteps(steps))
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

function buildStep(step: Doc, source: SourceRef): WorkflowStepDef {
  return dropUndefined({
    id: step.id,
    ability: step.ability,
    with: step.with ?? {},
    needs: step.needs,
    if: step.if,
    forEach: step.forEach,
    retry: toRetry(step.retry),
    timeoutMs: parseDuration(step.timeout),
    continueOnError: step.continueOnError ?? false,
    parse: step.parse,
    weight: step.weight,
    source,
  })
}

/** Duplicate step ids and `needs` naming no step of this workflow (or the step itself). */
function checkSteps(steps: WorkflowStepDef[]): Problem[] {
  const problems: Problem[] = []
  const ids = new Set(steps.map((s) => s.id))
  const seen = new Set<string>()
  steps.forEach((step, i) => {
    if (seen.has(step.id))
      problems.push({ path: ['steps', i, 'id'], message: `duplicate step id '${step.id}'` })
    seen.add(step.id)
    step.needs?.forEach((need, j) => {
      const path = ['steps', i, 'needs', j]
      if (need === step.id) problems.push({ path, message: `step '${step.id}' cannot need itself` })
      else if (!ids.has(need))
        problems.push({ path, message: `step '${step.id}' needs unknown step '${need}'` })
    })
  })
  return problems
}
