/**
 * The definitions across reloads: every file's newest text, parsed once, and
 * its last good version; each rebuild resolves them into a new immutable set.
 */
import { compareErrors, displayPath, formatDefinitionError } from './definition-error.js'
import type { ParsedFile } from './loaded.js'
import { type ParseContext, parseDefinitionFile } from './parse-file.js'
import { defKey, resolveDefinitions } from './resolve.js'
import type { DefinitionError, DefinitionSet } from './types.js'

interface FileState {
  text: string
  current: ParsedFile
  lastGood?: ParsedFile
}

export interface Rebuilt {
  set: DefinitionSet
  /** Files refused with errors other than last time's, for the log. */
  refused: { file: string; errors: DefinitionError[] }[]
}

export interface DefinitionRegistry {
  /** Records a file's text; false when it is what was already there. */
  update(file: string, text: string): boolean
  /**
   * Records a file refused before it was read (too large): its last good version
   * stays in force, `message` is its error. False when it was refused so already.
   */
  refuse(file: string, message: string): boolean
  /** Forgets a removed file; false when it was not known. */
  remove(file: string): boolean
  /** Absolute paths of the known files. */
  files(): string[]
  rebuild(): Rebuilt
  current(): DefinitionSet
}

export function createDefinitionRegistry(ctx: ParseContext): DefinitionRegistry {
  const states = new Map<string, FileState>()
  // who held each `Kind:id` in the set in force, so a newcomer cannot take it over
  let incumbents = new Map<string, string>()
  let shownErrors = new Map<string, string>()
  let set = freezeSet({
    version: 0,
    executors: new Map(),
    abilities: new Map(),
    workflows: new Map(),
    errors: [],
    loadedAt: new Date().toISOString(),
  })

  return {
    update(file, text) {
      const state = states.get(file)
      if (state?.text === text) return false
      states.set(file, { text, current: parseDefinitionFile(file, text, ctx), lastGood: state?.lastGood })
      return true
    },
    refuse(file, message) {
      const state = states.get(file)
      // no text of a YAML file starts with NUL, so this marker cannot equal a real one
      const marker = `\0refused: ${message}`
      if (state?.text === marker) return false
      const errors = [{ file: displayPath(file), line: 1, col: 1, message }]
      states.set(file, { text: marker, current: { file, defs: [], errors }, lastGood: state?.lastGood })
      return true
    },
    remove: (file) => states.delete(file),
    files: () => [...states.keys()],
    current: () => set,
    rebuild() {
      const files = [...states.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([file, state]) => ({ file, current: state.current, lastGood: state.lastGood }))
      const resolved = resolveDefinitions({ files, incumbents, providers: ctx.providers })

      incumbents = new Map()
      for (const [file, version] of resolved.inForce) {
        const state = states.get(file)!
        if (version === state.current) state.lastGood = state.current
        for (const d of version.defs) incumbents.set(defKey(d), file)
      }

      const refused: Rebuilt['refused'] = []
      const nowShown = new Map<string, string>()
      const errors: DefinitionError[] = []
      for (const list of resolved.errors.values()) {
        const sorted = [...list].sort(compareErrors)
        errors.push(...sorted)
        const file = sorted[0]?.file
        if (!file) continue
        const text = sorted.map(formatDefinitionError).join('\n')
        nowShown.set(file, text)
        if (shownErrors.get(file) !== text) refused.push({ file, errors: sorted })
      }
      shownErrors = nowShown

      set = freezeSet({
        version: set.version + 1,
        executors: resolved.executors,
        abilities: resolved.abilities,
        workflows: resolved.workflows,
        errors: errors.sort(compareErrors),
        loadedAt: new Date().toISOString(),
      })
      return { set, refused }
    },
  }
}

function freezeSet(set: DefinitionSet): DefinitionSet {
  for (const map of [set.executors, set.abilities, set.workflows])
    for (const def of map.values()) Object.freeze(def)
  Object.freeze(set.errors)
  return Object.freeze(set)
}
