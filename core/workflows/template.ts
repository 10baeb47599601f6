/**
 * `${{ expr }}` templates in workflow definitions, read by a small parser and
 * never by eval: an expression can only read a path of the scope, so a
 * workflow file cannot run code on the server.
 *
 *   expr   := '!'* path ('|' filter)* (('==' | '!=') literal)?
 *   path   := root ('.' name | '[' index-or-string ']')*
 *   root   := params | job | steps | item | index
 *   filter := default(literal) | json
 *
 * A literal is JSON (a single-quoted string is accepted too, since the YAML
 * around it is often double-quoted).
 */

export interface TemplateScope {
  params: unknown
  job: { id: string; projectId?: string; userId: string }
  steps: Record<string, { output?: unknown; status?: string }>
  item?: unknown
  index?: number
}

export interface TemplateRef {
  root: 'params' | 'job' | 'steps' | 'item' | 'index'
  stepId?: string
  path: (string | number)[]
}

export class TemplateError extends Error {
  override name = 'TemplateError'
}

type Filter = { name: 'default'; value: unknown } | { name: 'json' }

interface Expr {
  negations: number
  ref: TemplateRef
  filters: Filter[]
  compare?: { op: '==' | '!='; value: unknown }
}

/** A string split into text and expressions; `whole` when one expression is all of it. */
interface Parsed {
  parts: (string | Expr)[]
  whole: boolean
}

const ROOTS = new Set(['params', 'job', 'steps', 'item', 'index'])
const NAME = /[A-Za-z0-9_$][A-Za-z0-9_$-]*/y
const NUMBER_OR_WORD = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true\b|false\b|null\b/y
const OPEN = '${{'

/** Renders every string inside `value` (objects and arrays walked, keys left alone). */
export function render(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') return renderString(value, scope)
  if (Array.isArray(value)) return value.map((v) => render(v, scope))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = render(v, scope)
    return out
  }
  return value
}

/** The truthiness of an `if`: the string 'false' and an empty array are false too. */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value)
  return value !== false && value !== '' && value !== 'false' && value != null
}

/** Every path `value` reads, for checks at load time. */
export function references(value: unknown): TemplateRef[] {
  const refs: TemplateRef[] = []
  walkStrings(value, (s) => {
    for (const part of parseString(s).parts) if (typeof part !== 'string') refs.push(part.ref)
  })
  return refs
}

function renderString(s: string, scope: TemplateScope): unknown {
  const { parts, whole } = parseString(s)
  if (whole) return evaluate(parts[0] as Expr, scope)
  let out = ''
  for (const part of parts) out += typeof part === 'string' ? part : asText(evaluate(part, scope))
  return out
}

function evaluate(expr: Expr, scope: TemplateScope): unknown {
  let value = lookup(expr.ref, scope)
  for (const f of expr.filters) {
    if (f.name === 'default') value = value == null ? f.value : value
    else value = JSON.stringify(value)
  }
  if (expr.compare) {
    const same = sameValue(value, expr.compare.value)
    value = expr.compare.op === '==' ? same : !same
  }
  for (let i = 0; i < expr.negations; i++) value = !isTruthy(value)
  return value
}

function lookup(ref: TemplateRef, scope: TemplateScope): unknown {
  let value: unknown = ref.root === 'steps' ? own(scope.steps, ref.stepId!) : scope[ref.root]
  for (const key of ref.path) value = own(value, key)
  return value
}

// own properties only, so `params.constructor` or `__proto__` read nothing
function own(value: unknown, key: string | number): unknown {
  if (typeof value !== 'object' || value === null) return undefined
  return Object.hasOwn(value, key) ? (value as Record<string | number, unknown>)[key] : undefined
}

function asText(value: unknown): string {
  if (value == null) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b
  return JSON.stringify(a) === JSON.stringify(b)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value)
  else if (Array.isArray(value)) for (const v of value) walkStrings(v, visit)
  else if (isPlainObject(value)) for (const v of Object.values(value)) walkStrings(v, visit)
}

function parseString(s: string): Parsed {
  const parts: (string | Expr)[] = []
  let from = 0
  for (let open = s.indexOf(OPEN); open !== -1; open = s.indexOf(OPEN, from)) {
    if (open > from) parts.push(s.slice(from, open))
    const close = findClose(s, open + OPEN.length)
    parts.push(parseExpr(s.slice(open + OPEN.length, close)))
    from = close + 2
  }
  if (from < s.length) parts.push(s.slice(from))
  return { parts, whole: parts.length === 1 && typeof parts[0] !== 'string' }
}

// `}}` inside a quoted literal (`default("}}")`) does not end the expression
function findClose(s: string, from: number): number {
  let quote = ''
  for (let i = from; i < s.length; i++) {
    const c = s[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
    } else if (c === '"' || c === "'") quote = c
    else if (c === '}' && s[i + 1] === '}') return i
  }
  throw new TemplateError(`unterminated template in ${excerpt(s)}: missing '}}'`)
}

function parseExpr(source: string): Expr {
  let pos = 0
  const fail = (what: string): never => {
    const at = source.slice(pos).trim()
    throw new TemplateError(
      `malformed template ${excerpt(`\${{${source}}}`)}: ${what}${at ? ` at '${at.slice(0, 20)}'` : ''}`,
    )
  }
  const skip = () => {
    while (/\s/.test(source[pos] ?? '')) pos++
  }
  const eat = (token: string) => {
    skip()
    if (!source.startsWith(token, pos)) return false
    pos += token.length
    return true
  }
  const name = (): string | undefined => {
    skip()
    NAME.lastIndex = pos
    const m = NAME.exec(source)
    if (!m) return undefined
    pos += m[0].length
    return m[0]
  }
  const literal = (): unknown => {
    skip()
    const end = literalEnd(source, pos)
    if (end === undefined) return fail('expected a JSON literal')
    const text = source.slice(pos, end)
    pos = end
    return parseLiteral(text, fail)
  }

  let negations = 0
  while (eat('!')) negations++
  const root = name()
  if (!root) return fail(source.trim() ? 'expected a path' : 'empty expression')
  if (!ROOTS.has(root)) return fail(`unknown root '${root}' (expected params, job, steps, item or index)`)
  const path: (string | number)[] = []
  for (;;) {
    if (source[pos] === '.') {
      pos++
      const key = name()
      if (key === undefined) return fail('expected a name after "."')
      path.push(key)
    } else if (source[pos] === '[') {
      pos++
      const key = literal()
      if (!(typeof key === 'string' || (Number.isInteger(key) && (key as number) >= 0)))
        return fail('expected an index or a quoted key')
      if (!eat(']')) return fail("expected ']'")
      path.push(key as string | number)
    } else break
  }
  const ref: TemplateRef = { root: root as TemplateRef['root'], path }
  if (root === 'steps') {
    const stepId = path.shift()
    if (typeof stepId !== 'string') return fail('expected a step id after steps')
    ref.stepId = stepId
  }

  const filters: Filter[] = []
  while (eat('|')) {
    const filter = name()
    if (filter === 'json') filters.push({ name: 'json' })
    else if (filter === 'default') {
      if (!eat('(')) return fail("expected '(' after default")
      const value = literal()
      if (!eat(')')) return fail("expected ')'")
      filters.push({ name: 'default', value })
    } else return fail(filter ? `unknown filter '${filter}'` : 'expected a filter name')
  }
  let compare: Expr['compare']
  skip()
  const op = source.startsWith('==', pos) ? '==' : source.startsWith('!=', pos) ? '!=' : undefined
  if (op) {
    pos += 2
    compare = { op, value: literal() }
  }
  skip()
  if (pos < source.length) fail('unexpected text')
  return { negations, ref, filters, compare }
}

/** Where a literal starting at `pos` ends: a quoted string, a bracketed JSON value, a number or word. */
function literalEnd(s: string, pos: number): number | undefined {
  const c = s[pos]
  if (c === '"' || c === "'") {
    for (let i = pos + 1; i < s.length; i++) {
      if (s[i] === '\\') i++
      else if (s[i] === c) return i + 1
    }
    return undefined
  }
  if (c === '[' || c === '{') {
    let depth = 0
    let quote = ''
    for (let i = pos; i < s.length; i++) {
      const d = s[i]
      if (quote) {
        if (d === '\\') i++
        else if (d === quote) quote = ''
      } else if (d === '"') quote = d
      else if (d === '[' || d === '{') depth++
      else if ((d === ']' || d === '}') && --depth === 0) return i + 1
    }
    return undefined
  }
  NUMBER_OR_WORD.lastIndex = pos
  const m = NUMBER_OR_WORD.exec(s)
  return m ? pos + m[0].length : undefined
}

function parseLiteral(text: string, fail: (what: string) => never): unknown {
  try {
    return JSON.parse(text.startsWith("'") ? singleToDouble(text) : text)
  } catch {
    return fail(`invalid literal ${text}`)
  }
}

// 'it\'s "x"' to "it's \"x\"": the other escapes mean the same in both
function singleToDouble(text: string): string {
  let out = '"'
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]
    if (c === '\\' && text[i + 1] === "'") out += text[++i]
    else if (c === '\\') out += c + (text[++i] ?? '')
    else out += c === '"' ? '\\"' : c
  }
  return `${out}"`
}

function excerpt(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s)
}
