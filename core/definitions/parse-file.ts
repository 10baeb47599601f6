/**
 * One file's text to its definitions, or to the errors that refuse it: YAML
 * syntax, the kind's schema, then each kind's own checks, all positioned.
 */
import { explainAjvErrors } from './ajv-errors.js'
import { buildAbility, buildExecutor } from './build-defs.js'
import { buildWorkflow } from './build-workflow.js'
import { displayPath, type Problem } from './definition-error.js'
import type { LoadedDef, ParsedFile } from './loaded.js'
import { KINDS, kindValidators } from './schemas.js'
import type { DefinitionError, DefinitionKind, ProviderInfo, SourceRef } from './types.js'
import { parseYamlSource, type YamlDocument } from './yaml-source.js'

export interface ParseContext {
  providers: ReadonlyMap<string, ProviderInfo>
  env: Record<string, string | undefined>
}

/** `defs` is empty whenever `errors` is not: a file is taken whole or not at all. */
export function parseDefinitionFile(absPath: string, text: string, ctx: ParseContext): ParsedFile {
  const file = displayPath(absPath)
  const source = parseYamlSource(text)
  const errors: DefinitionError[] = source.errors.map((e) => ({
    file,
    line: e.line,
    col: e.col,
    message: e.message,
  }))
  const defs: LoadedDef[] = []
  for (const doc of source.documents) {
    const loaded = loadDocument(file, doc, ctx, errors)
    if (loaded) defs.push(loaded)
  }
  return { file: absPath, defs: errors.length ? [] : defs, errors }
}

function loadDocument(
  file: string,
  doc: YamlDocument,
  ctx: ParseContext,
  errors: DefinitionError[],
): LoadedDef | undefined {
  const at = (path: readonly (string | number)[], mode?: 'value' | 'key'): SourceRef => ({
    file,
    ...doc.locate(path, mode),
  })
  const report = (problems: Problem[], kind?: string, id?: unknown) => {
    for (const p of problems) {
      errors.push({
        ...at(p.path, p.mode),
        message: p.message,
        ...(p.schemaPath ? { schemaPath: p.schemaPath } : {}),
        ...(kind ? { kind } : {}),
        ...(typeof id === 'string' ? { id } : {}),
      })
    }
  }

  const value = doc.value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    report([
      { path: [], message: "a document must be a mapping with a 'kind' (Executor, Ability or Workflow)" },
    ])
    return undefined
  }
  const raw = value as Record<string, any>
  const id: unknown = raw.id
  if (raw.kind === undefined) {
    report([{ path: [], message: "must have required property 'kind'" }], undefined, id)
    return undefined
  }
  if (!KINDS.includes(raw.kind)) {
    const message = `unknown kind ${JSON.stringify(raw.kind)} (expected ${KINDS.join(', ')})`
    report([{ path: ['kind'], message }], undefined, id)
    return undefined
  }
  const kind = raw.kind as DefinitionKind
  const validate = kindValidators[kind]
  if (!validate(raw)) {
    report(explainAjvErrors(validate.errors ?? []), kind, id)
    return undefined
  }

  const buildCtx = { ...ctx, source: at([]), at }
  const built =
    kind === 'Executor'
      ? { kind, ...buildExecutor(raw, buildCtx) }
      : kind === 'Ability'
        ? { kind, ...buildAbility(raw, buildCtx) }
        : { kind, ...buildWorkflow(raw, buildCtx) }
  report(built.problems, kind, id)
  if (built.problems.length) return undefined
  return { kind: built.kind, id: raw.id, def: built.def, at } as LoadedDef
}
