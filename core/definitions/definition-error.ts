/** Building, ordering and printing `DefinitionError`s. */
import path from 'node:path'
import type { DefinitionError } from './types.js'
import type { LocateMode, PathSegment } from './yaml-source.js'

/** A problem found in a document, before it is given a file position. */
export interface Problem {
  path: PathSegment[]
  mode?: LocateMode
  message: string
  schemaPath?: string
}

/** Relative to the cwd when the file is inside it, so log lines stay short and clickable. */
export function displayPath(abs: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, abs)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs
}

/** `file:line:col message [schemaPath]`, the line editors and CI logs understand. */
export function formatDefinitionError(e: DefinitionError): string {
  const schema = e.schemaPath ? ` [${e.schemaPath}]` : ''
  return `${e.file}:${e.line}:${e.col} ${e.message}${schema}`
}

export function compareErrors(a: DefinitionError, b: DefinitionError): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1
  return a.line - b.line || a.col - b.col
}
