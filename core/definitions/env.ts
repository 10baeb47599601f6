/** `${env:NAME}` in executor and ability `config`, replaced when the file loads so secrets stay out of YAML. */
import type { PathSegment } from './yaml-source.js'

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g

export interface EnvProblem {
  path: PathSegment[]
  message: string
}

/** A copy of `value` with every reference replaced; each unset variable is a problem at the string using it. */
export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  path: PathSegment[] = [],
): { value: unknown; problems: EnvProblem[] } {
  const problems: EnvProblem[] = []
  const walk = (node: unknown, at: PathSegment[]): unknown => {
    if (typeof node === 'string') {
      return node.replace(ENV_REF, (ref, name: string) => {
        const found = env[name]
        if (found !== undefined) return found
        problems.push({ path: at, message: `environment variable '${name}' is not set` })
        return ref
      })
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...at, i]))
    if (typeof node === 'object' && node !== null) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...at, k])]))
    }
    return node
  }
  return { value: walk(value, path), problems }
}
