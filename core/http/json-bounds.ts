/**
 * Bounds on any JSON a client sends, checked once where the body is parsed.
 *
 * The byte limit alone lets a 10 MB body nest millions of levels: JSON.parse
 * copes, slowly (seconds), but JSON.stringify, structuredClone and every
 * recursive walk after it overflow the stack, and a store write fails after
 * credits were held. So depth is found in the text before parsing
 * (`findTooDeep`), and the parsed value is checked for width and for strings
 * no store can hold (`checkJsonBounds`, see core/store/storable.ts).
 */
import { unstorable } from '../store/storable.js'

export interface JsonBounds {
  /** Levels of objects and arrays; the body itself is level 1. */
  maxDepth: number
  /** Keys of one object. */
  maxKeys: number
  /** Items of one array. */
  maxItems: number
}

export const JSON_BOUNDS: JsonBounds = { maxDepth: 32, maxKeys: 1000, maxItems: 10_000 }

/** Where a body breaks a bound: a JSON pointer, as Ajv's `instancePath`, and why. */
export interface BoundsProblem {
  path: string
  message: string
}

interface Frame {
  value: unknown
  depth: number
  parent?: Frame
  key?: string
}

/**
 * The first place `value` breaks `bounds`, or undefined. Walks with its own
 * stack rather than recursion, since a too-deep value is what it looks for.
 *
 * @example
 * checkJsonBounds(JSON.parse('{"a":"x\\u0000"}')) // { path: '/a', message: 'contains U+0000 (NUL), which cannot be stored' }
 */
export function checkJsonBounds(value: unknown, bounds: JsonBounds = JSON_BOUNDS): BoundsProblem | undefined {
  const stack: Frame[] = [{ value, depth: 1 }]
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    // a key is checked as its value's turn comes, so problems are found in document order
    const keyWhy = frame.key === undefined ? undefined : unstorable(frame.key)
    if (keyWhy) return { path: pointer(frame), message: `its key ${keyWhy}` }
    const v = frame.value
    if (typeof v === 'string') {
      const why = unstorable(v)
      if (why) return { path: pointer(frame), message: why }
      continue
    }
    if (!v || typeof v !== 'object') continue
    if (frame.depth > bounds.maxDepth) {
      return { path: pointer(frame), message: `nests deeper than ${bounds.maxDepth} levels` }
    }
    const depth = frame.depth + 1
    if (Array.isArray(v)) {
      if (v.length > bounds.maxItems) {
        return { path: pointer(frame), message: `has more than ${bounds.maxItems} items` }
      }
      // pushed last to first, so the walk (and the problem it reports) goes in document order
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], depth, parent: frame, key: String(i) })
      continue
    }
    const keys = Object.keys(v)
    if (keys.length > bounds.maxKeys) {
      return { path: pointer(frame), message: `has more than ${bounds.maxKeys} keys` }
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      stack.push({ value: (v as Record<string, unknown>)[keys[i]], depth, parent: frame, key: keys[i] })
    }
  }
  return undefined
}

const SEGMENT_SHOWN = 64

/** A JSON pointer (RFC 6901) of `segments`, each cut to a readable length. */
function pointerOf(segments: readonly string[]): string {
  return segments
    .map((key) => (key.length > SEGMENT_SHOWN ? `${key.slice(0, SEGMENT_SHOWN)}…` : key))
    .map((key) => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    .join('')
}

function pointer(frame: Frame): string {
  const segments: string[] = []
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) segments.push(f.key)
  return pointerOf(segments.reverse())
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

interface TextLevel {
  array: boolean
  /** The raw key (a JSON string literal) or index leading to the current child. */
  key?: string
  index: number
}

/**
 * Where JSON text first nests deeper than `maxDepth`, found in one pass over
 * the text, before it is parsed: V8 parses deep nesting slowly (a 10 MB body
 * of brackets holds the thread for seconds), so depth is refused unparsed.
 * On text that is not JSON the answer means little; JSON.parse refuses it.
 */
export function findTooDeep(text: string, maxDepth = JSON_BOUNDS.maxDepth): BoundsProblem | undefined {
  const levels: TextLevel[] = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === QUOTE) {
      const start = i
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) {
        if (text.charCodeAt(i) === BACKSLASH) i++
      }
      if (expectKey) levels[levels.length - 1].key = text.slice(start, i + 1)
      expectKey = false
    } else if (ch === 0x7b || ch === 0x5b) {
      levels.push({ array: ch === 0x5b, index: 0 })
      if (levels.length > maxDepth) {
        const segments = levels.slice(0, -1).map((l) => (l.array ? String(l.index) : decodeKey(l.key)))
        return { path: pointerOf(segments), message: `nests deeper than ${maxDepth} levels` }
      }
      expectKey = ch === 0x7b
    } else if (ch === 0x7d || ch === 0x5d) {
      levels.pop()
      expectKey = false
    } else if (ch === 0x2c) {
      const top = levels[levels.length - 1]
      if (top?.array) top.index++
      else if (top) expectKey = true
    }
  }
  return undefined
}

function decodeKey(raw = '""'): string {
  try {
    return String(JSON.parse(raw))
  } catch {
    return raw.slice(1, -1)
  }
}
