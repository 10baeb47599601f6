/**
 * JSON from a text model, which often wraps it in a ``` fence or chatter,
 * writes it the JavaScript way (single quotes, bare keys, trailing commas,
 * comments) or stops mid-way at its token limit. One pass over the text
 * rewrites what it can; JSON.parse has the last word.
 */

export type ModelJson = { ok: true; value: unknown; repaired: boolean } | { ok: false; message: string }

interface Frame {
  close: '}' | ']'
  /** In an object: the next string or word is a key. */
  expectKey: boolean
}

const EXCERPT = 120
// how many `{`/`[` to try as the start: chatter before the JSON may hold a bracket or two
const MAX_STARTS = 3
const FENCE = /```[\w-]*[^\S\n]*\n?([\s\S]*?)(?:```|$)/
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d*)?/y
const WORD = /[A-Za-z_$][\w$-]*/y
const WORDS: Record<string, string> = {
  true: 'true',
  false: 'false',
  null: 'null',
  True: 'true',
  False: 'false',
  None: 'null',
  undefined: 'null',
  NaN: 'null',
  Infinity: 'null',
}
const CLOSERS: Record<string, string> = { '"': '"', '“': '”“"', '”': '”“"', "'": "'", '‘': "’'", '’': "’'" }

/** Parses a model's reply as JSON, repairing the usual slips; a failure quotes the text where it broke. */
export function parseModelJson(text: string): ModelJson {
  try {
    return { ok: true, value: JSON.parse(text), repaired: false }
  } catch {}
  const body = bodyOf(text)
  let best: { value: unknown; length: number } | undefined
  let failure: string | undefined
  // later starts begin after what the earlier ones read, so a nested object is never taken for the whole
  for (let n = 0, from = 0; n < MAX_STARTS; n++) {
    const start = firstBracket(body, from)
    if (start === -1) break
    const { json, end } = repairJson(body, start)
    try {
      const value = JSON.parse(json)
      // `Here is [the] JSON: {...}`: the longest candidate is the answer, not the first
      if (!best || end - start > best.length) best = { value, length: end - start }
    } catch (err) {
      failure ??= describe(err as Error, json)
    }
    from = end
  }
  if (best) return { ok: true, value: best.value, repaired: true }
  return { ok: false, message: failure ?? `no JSON object or array in "${excerpt(text, 0)}"` }
}

function bodyOf(text: string): string {
  const fenced = FENCE.exec(text)?.[1]
  return fenced !== undefined && firstBracket(fenced, 0) !== -1 ? fenced : text
}

function firstBracket(s: string, from: number): number {
  const brace = s.indexOf('{', from)
  const bracket = s.indexOf('[', from)
  return brace === -1 ? bracket : bracket === -1 ? brace : Math.min(brace, bracket)
}

/** Rewrites `src` from `start` (a bracket) towards JSON, up to the bracket that closes it (`end`). */
function repairJson(src: string, start: number): { json: string; end: number } {
  let out = ''
  const stack: Frame[] = []
  // a value just ended, so another one needs a comma before it
  let valueEnded = false
  // where a key without its colon yet starts, to drop it when the text ends there
  let pendingKey = -1
  const top = () => stack[stack.length - 1]
  const beforeValue = () => {
    if (!valueEnded) return
    out += ','
    if (top()?.close === '}') top().expectKey = true
  }

  let i = start
  while (i < src.length) {
    const c = src[i]
    if (/\s/.test(c)) {
      out += c
      i++
    } else if (c === '/' && (src[i + 1] === '/' || src[i + 1] === '*')) {
      i = skipComment(src, i)
    } else if (c === '#') {
      i = skipComment(src, i)
    } else if (c === '{' || c === '[') {
      beforeValue()
      out += c
      stack.push({ close: c === '{' ? '}' : ']', expectKey: c === '{' })
      valueEnded = false
      i++
    } else if (c === '}' || c === ']') {
      i++
      // a closer with no opener of its kind is a stray: skip it
      if (!stack.some((f) => f.close === c)) continue
      while (top().close !== c) out = dropTrailingComma(out) + stack.pop()!.close
      out = dropTrailingComma(out) + c
      stack.pop()
      valueEnded = true
      pendingKey = -1
      if (!stack.length) return { json: out, end: i }
    } else if (c === ',') {
      // a comma with nothing before it (`[,1]`, `1,,2`) is dropped
      if (valueEnded) out += ','
      if (top()?.close === '}') top().expectKey = true
      valueEnded = false
      i++
    } else if (c === ':') {
      out += ':'
      if (top()) top().expectKey = false
      valueEnded = false
      pendingKey = -1
      i++
    } else if (c in CLOSERS) {
      beforeValue()
      const isKey = markKey()
      const read = readString(src, i)
      out += read.json
      i = read.end
      valueEnded = true
      if (!isKey) pendingKey = -1
    } else if (matchAt(NUMBER, src, i)) {
      const number = normalizeNumber(matchAt(NUMBER, src, i)!)
      beforeValue()
      out += markKey() ? JSON.stringify(number) : number
      i = NUMBER.lastIndex
      valueEnded = true
    } else if (matchAt(WORD, src, i)) {
      const word = matchAt(WORD, src, i)!
      beforeValue()
      out += markKey() ? JSON.stringify(word) : (WORDS[word] ?? JSON.stringify(word))
      i = WORD.lastIndex
      valueEnded = true
    } else {
      // anything else is left for JSON.parse to point at
      out += c
      i++
    }
  }

  // the text stopped early (a model's token limit): finish what is open
  if (pendingKey !== -1) out = out.slice(0, pendingKey)
  out = dropTrailingComma(out.trimEnd())
  if (out.endsWith(':')) out += ' null'
  while (stack.length) out += stack.pop()!.close
  return { json: out, end: src.length }

  function markKey(): boolean {
    const frame = top()
    if (frame?.close !== '}' || !frame.expectKey) return false
    frame.expectKey = false
    pendingKey = out.length
    return true
  }
}

/** What a sticky regex matches at `i`; its lastIndex is left at the end of the match. */
function matchAt(re: RegExp, s: string, i: number): string | undefined {
  re.lastIndex = i
  return re.exec(s)?.[0]
}

function skipComment(src: string, i: number): number {
  if (src[i] === '/' && src[i + 1] === '*') {
    const end = src.indexOf('*/', i + 2)
    return end === -1 ? src.length : end + 2
  }
  const end = src.indexOf('\n', i)
  return end === -1 ? src.length : end
}

/** A string opened at `i` with any kind of quote, as a JSON string; unterminated ones are closed. */
function readString(src: string, i: number): { json: string; end: number } {
  const closers = CLOSERS[src[i]]
  let json = '"'
  let j = i + 1
  while (j < src.length) {
    const c = src[j]
    if (c === '\\') {
      const n = src[j + 1]
      if (n === undefined) break
      const unicode = n === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(j + 2, j + 6))
      // JSON knows neither \' nor \$: keep the character, drop the backslash
      json += unicode ? src.slice(j, j + 6) : '"\\/bfnrt'.includes(n) ? c + n : n
      j += unicode ? 6 : 2
    } else if (closers.includes(c) && endsString(src, j + 1)) {
      return { json: `${json}"`, end: j + 1 }
    } else if (c === '"') {
      json += '\\"'
      j++
    } else if (c < ' ') {
      json += c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : ''
      j++
    } else {
      json += c
      j++
    }
  }
  return { json: `${json}"`, end: src.length }
}

// a quote ends its string only where JSON could go on (`it's`, `say "hi" now` stay inside)
function endsString(src: string, j: number): boolean {
  while (src[j] === ' ' || src[j] === '\t') j++
  const c = src[j]
  return (
    c === undefined ||
    c === '\n' ||
    c === '\r' ||
    ',:}]'.includes(c) ||
    (c === '/' && '/*'.includes(src[j + 1]))
  )
}

function normalizeNumber(n: string): string {
  let s = n.replace(/^\+/, '').replace(/[eE][-+]?$/, '')
  s = s
    .replace(/^(-?)\./, '$10.')
    .replace(/\.$/, '')
    .replace(/\.(?=[eE])/, '')
  return s
}

function dropTrailingComma(out: string): string {
  let k = out.length - 1
  while (k >= 0 && /\s/.test(out[k])) k--
  return out[k] === ',' ? out.slice(0, k) + out.slice(k + 1) : out
}

function describe(err: Error, text: string): string {
  const reason = err.message.replace(/, (\.\.\.)?".*$/s, '')
  const pos = /position (\d+)/.exec(err.message)?.[1]
  const context = /"(.*)"(?:\.\.\.)? is not valid JSON$/s.exec(err.message)?.[1]
  const found = context === undefined ? -1 : text.indexOf(context)
  const where = pos !== undefined ? Number(pos) : found !== -1 ? found + context!.length / 2 : text.length
  return `not valid JSON even after repair (${reason}) near "${excerpt(text, where)}"`
}

function excerpt(text: string, where: number): string {
  const from = Math.max(0, Math.min(where - EXCERPT / 2, text.length - EXCERPT))
  return text.slice(from, from + EXCERPT).replace(/\s+/g, ' ')
}
