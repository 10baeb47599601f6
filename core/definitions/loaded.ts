/** Internal shapes between parsing one file and resolving references across files. */

import type { AbilityDef, DefinitionError, ExecutorDef, SourceRef, WorkflowDef } from './types.js'
import type { LocateMode, YamlPath } from './yaml-source.js'

interface LoadedBase {
  id: string
  /** The position of a node of this definition's document. */
  at(path: YamlPath, mode?: LocateMode): SourceRef
}

/** One document of a file, validated on its own and waiting for cross-file checks. */
export type LoadedDef =
  | (LoadedBase & { kind: 'Executor'; def: ExecutorDef })
  | (LoadedBase & { kind: 'Ability'; def: AbilityDef })
  | (LoadedBase & { kind: 'Workflow'; def: WorkflowDef })

/** One version of one file: its definitions and the errors that refuse it (if any). */
export interface ParsedFile {
  /** Absolute path. */
  file: string
  defs: LoadedDef[]
  errors: DefinitionError[]
}
