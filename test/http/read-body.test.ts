import type { Context } from 'hono'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readJsonObject } from '../../core/http/read-body.js'

const contextWith = (text: string) => ({ req: { text: async () => text } }) as unknown as Context

describe('readJsonObject', () => {
  afterEach(() => vi.restoreAllMocks())

  // V8 takes seconds to parse millions of levels: the depth is refused before parsing
  it('refuses a 10 MB body of brackets without parsing it', async () => {
    const parse = vi.spyOn(JSON, 'parse')
    const text = `{"metadata":${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}}`
    const err = await readJsonObject(contextWith(text)).catch((e) => e)
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 })
    expect(err.details).toEqual([
      { path: `/metadata${'/0'.repeat(31)}`, message: 'nests deeper than 32 levels' },
    ])
    // (the key on the path is decoded with JSON.parse; the body never is)
    expect(parse.mock.calls.map(([t]) => t.length)).toEqual(['"metadata"'.length])
  })

  it('parses a body within bounds', async () => {
    expect(await readJsonObject(contextWith('{"a":[{"b":"c"}]}'))).toEqual({ a: [{ b: 'c' }] })
  })
})
