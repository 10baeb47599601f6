/**
 * Bounds on any JSON a client sends, checked once where the body is parsed.
 *
 * The byte limit alone lets a 10 MB body nest millions of levels: JSON.parse
 * copes, but JSON.stringify, structuredClone and every recursive walk after it
 * overflow the stack, and a store write fails after credits were held. Strings
 * are checked too: none may hold what a store cannot (core/store/storable.ts).
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

/** The frame's JSON pointer (RFC 6901), each segment cut to a readable length. */
function pointer(frame: Frame): string {
  const segments: string[] = []
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) {
    const key = f.key.length > SEGMENT_SHOWN ? `${f.key.slice(0, SEGMENT_SHOWN)}…` : f.key
    segments.push(key.replace(/~/g, '~0').replace(/\//g, '~1'))
  }
  return segments
    .reverse()
    .map((s) => `/${s}`)
    .join('')
}
