/**
 * YAML text to plain values that remember where each node came from, so a
 * schema error about `/steps/0/ability` can be reported at its line and column.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from 'yaml'

export type PathSegment = string | number
export type YamlPath = readonly PathSegment[]

/** 1-based. */
export interface Position {
  line: number
  col: number
}

/** `value` points at the node itself, `key` at the key that holds it (for an unknown property). */
export type LocateMode = 'value' | 'key'

export interface YamlDocument {
  value: unknown
  /** The nearest existing node on `path`; a missing property lands on its parent map. */
  locate(path: YamlPath, mode?: LocateMode): Position
}

export interface YamlSyntaxError extends Position {
  message: string
}

export interface YamlSource {
  documents: YamlDocument[]
  errors: YamlSyntaxError[]
}

/** Splits an ajv `instancePath` (a JSON pointer) into keys, undoing `~1` and `~0`. */
export function pointerToPath(pointer: string): string[] {
  if (!pointer) return []
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** Parses every `---` document of a file; documents with no content are skipped. */
export function parseYamlSource(text: string): YamlSource {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true })
  const documents: YamlDocument[] = []
  const errors: YamlSyntaxError[] = []
  const at = (offset: number): Position => lineCounter.linePos(offset)

  for (const doc of docs) {
    for (const err of doc.errors) errors.push({ ...at(err.pos[0]), message: err.message })
    if (doc.errors.length > 0 || doc.contents == null) continue
    const root = doc.contents as Node
    // a comment-only document parses as a null scalar: nothing to load
    if (isScalar(root) && root.value == null) continue
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: 100 })
    } catch (err) {
      // alias bombs and unresolvable aliases surface here, not as parse errors
      errors.push({ ...at(root.range?.[0] ?? 0), message: (err as Error).message })
      continue
    }
    documents.push({
      value,
      locate(path, mode = 'value') {
        return at(findOffset(doc, root, path, mode))
      },
    })
  }
  return { documents, errors }
}

function findOffset(doc: Document, root: Node, path: YamlPath, mode: LocateMode): number {
  let node: Node = root
  let keyOffset: number | undefined
  for (let i = 0; i < path.length; i++) {
    const target = deref(doc, node)
    const step = childOf(target, path[i])
    if (!step) return start(node)
    node = step.node
    keyOffset = i === path.length - 1 ? step.keyOffset : undefined
  }
  return mode === 'key' && keyOffset !== undefined ? keyOffset : start(node)
}

function childOf(node: Node, seg: PathSegment): { node: Node; keyOffset?: number } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key
      if (String(key) !== String(seg)) continue
      const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined
      // `key:` with nothing after it has no value node; the key is the best place to point
      const valueNode = (pair.value as Node | null) ?? (pair.key as Node)
      return { node: valueNode, keyOffset }
    }
    return undefined
  }
  if (isSeq(node)) {
    const item = node.items[Number(seg)] as Node | undefined
    return item ? { node: item } : undefined
  }
  return undefined
}

function deref(doc: Document, node: Node): Node {
  if (!isAlias(node)) return node
  return (node.resolve(doc) as Node | undefined) ?? node
}

function start(node: Node): number {
  return node.range?.[0] ?? 0
}
