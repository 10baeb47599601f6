/**
 * Paths into a JSON answer or a template scope: `data.images[0].url`,
 * `data.images.0.url`; `$` (or an empty path) is the value itself.
 */

/** The segments of a path: `a.b[0].c` -> `['a', 'b', '0', 'c']`. */
export function pathSegments(path: string): string[] {
  const trimmed = path.trim().replace(/^\$\.?/, '')
  if (!trimmed) return []
  return trimmed
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s !== '')
}

/**
 * The value at `path`, or undefined when any step is missing. Only own
 * properties are followed, so a path such as `__proto__.x` reads nothing.
 */
export function readPath(value: unknown, path: string): unknown {
  let node = value
  for (const segment of pathSegments(path)) {
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(segment)) return undefined
      node = node[Number(segment)]
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment]
    } else {
      return undefined
    }
  }
  return node
}
