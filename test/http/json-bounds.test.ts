import { describe, expect, it } from 'vitest'
import { checkJsonBounds, findTooDeep } from '../../core/http/json-bounds.js'

describe('checkJsonBounds', () => {
  it('names the field as a JSON pointer, escaping / and ~ in keys', () => {
    expect(checkJsonBounds({ 'a/b': { 'c~d': 'x\u0000' } })).toEqual({
      path: '/a~1b/c~0d',
      message: 'contains U+0000 (NUL), which cannot be stored',
    })
  })

  it('reports the first problem in document order', () => {
    const value = JSON.parse('{"first":["ok","\\ud800"],"se\\u0000cond":1}')
    expect(checkJsonBounds(value)?.path).toBe('/first/1')
  })

  it('walks a value far deeper than the stack allows without overflowing', () => {
    const n = 200_000
    const value = JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`)
    expect(checkJsonBounds(value)?.message).toBe('nests deeper than 32 levels')
  })

  it('cuts a long key short in the path it reports', () => {
    const key = 'k'.repeat(10_000)
    const problem = checkJsonBounds({ [key]: '\ud800' })
    expect(problem?.path).toBe(`/${'k'.repeat(64)}…`)
  })

  it('accepts what fits, surrogate pairs included', () => {
    expect(checkJsonBounds({ text: 'fox 🦊', list: [1, 2, { a: null }] })).toBeUndefined()
  })

  it('finds too deep a nesting in the text, before parsing, naming the same field', () => {
    const text = `{"a/b":[1,{"k\\"ey":${'['.repeat(40)}`
    expect(findTooDeep(text, 5)).toEqual({ path: '/a~1b/1/k"ey/0/0', message: 'nests deeper than 5 levels' })
    // brackets, quotes and commas inside strings are not structure
    expect(findTooDeep(`{"x":"[[[[[[\\"[[[[",${'"{{{{{{",'.repeat(3)}"y":[[1]]}`, 5)).toBeUndefined()
    expect(findTooDeep('{"a":{"b":1},"c":[[[1]]]}', 4)).toBeUndefined()
  })
})
