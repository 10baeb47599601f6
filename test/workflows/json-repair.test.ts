import { describe, expect, it } from 'vitest'
import { parseModelJson } from '../../core/workflows/json-repair.js'

/** The value, failing the test with the message when the text could not be read. */
function readJson(text: string) {
  const result = parseModelJson(text)
  if (!result.ok) throw new Error(result.message)
  return result
}

describe('JSON from a text model', () => {
  it('valid JSON is parsed as is', () => {
    expect(parseModelJson('{"shots": [1, 2]}')).toEqual({
      ok: true,
      value: { shots: [1, 2] },
      repaired: false,
    })
    expect(parseModelJson(' [true] \n')).toEqual({ ok: true, value: [true], repaired: false })
  })

  it('a fenced answer with chatter around it', () => {
    const text = [
      'Sure! Here is the storyboard you asked for:',
      '',
      '```json',
      '{',
      '  "scenes": [',
      '    { "id": 1, "prompt": "a castle at dawn" },',
      '    { "id": 2, "prompt": "the gate, close up" }',
      '  ]',
      '}',
      '```',
      '',
      'Let me know if you want changes.',
    ].join('\n')
    expect(readJson(text)).toEqual({
      ok: true,
      repaired: true,
      value: {
        scenes: [
          { id: 1, prompt: 'a castle at dawn' },
          { id: 2, prompt: 'the gate, close up' },
        ],
      },
    })
  })

  it('a chatty prefix and suffix without a fence', () => {
    expect(readJson('Here is the JSON: {"name": "Mira", "age": 19} Hope this helps!').value).toEqual({
      name: 'Mira',
      age: 19,
    })
    expect(readJson('Here is [the] JSON: {"a": [1, 2]}').value).toEqual({ a: [1, 2] })
  })

  it('trailing commas, comments and missing commas between lines', () => {
    const text = [
      '{',
      '  "title": "Sunset", // the working title',
      '  /* characters follow */',
      '  "characters": ["Mira", "Tom",],',
      '  "mood": "calm"',
      '  "url": "https://example.com/a//b",',
      '}',
    ].join('\n')
    expect(readJson(text).value).toEqual({
      title: 'Sunset',
      characters: ['Mira', 'Tom'],
      mood: 'calm',
      url: 'https://example.com/a//b',
    })
  })

  it('single quotes, bare keys and Python words, apostrophes kept', () => {
    const text = "{name: 'Mira', 'line': 'It\\'s late', note: \"Tom's hat\", shy: True, pet: None}"
    expect(readJson(text).value).toEqual({
      name: 'Mira',
      line: "It's late",
      note: "Tom's hat",
      shy: true,
      pet: null,
    })
    expect(readJson("{'text': 'the hero's home', 'n': 1}").value).toEqual({ text: "the hero's home", n: 1 })
  })

  it('smart quotes, raw newlines in strings and unescaped inner quotes', () => {
    expect(readJson('{“title”: “Sunset”, “tags”: [“calm”]}').value).toEqual({
      title: 'Sunset',
      tags: ['calm'],
    })
    expect(readJson('{"text": "line one\nline two"}').value).toEqual({ text: 'line one\nline two' })
    expect(readJson('{"text": "She said "run" and ran", "n": 2}').value).toEqual({
      text: 'She said "run" and ran',
      n: 2,
    })
  })

  it('output cut off by the token limit is closed', () => {
    const text = [
      '```json',
      '{"scenes": [',
      '  {"id": 1, "shots": [{"angle": "wide"}, {"angle": "close"}]},',
      '  {"id": 2, "shots": [{"angle": "low", "desc": "the hero walks into the rain',
    ].join('\n')
    expect(readJson(text).value).toEqual({
      scenes: [
        { id: 1, shots: [{ angle: 'wide' }, { angle: 'close' }] },
        { id: 2, shots: [{ angle: 'low', desc: 'the hero walks into the rain' }] },
      ],
    })
    expect(readJson('[{"x": 1}, {"x": 2}').value).toEqual([{ x: 1 }, { x: 2 }])
    expect(readJson('{"a": 1, "b": ').value).toEqual({ a: 1, b: null })
    expect(readJson('{"a": 1, "unfinished_ke').value).toEqual({ a: 1 })
    expect(readJson('{"a": [1, 2.').value).toEqual({ a: [1, 2] })
  })

  it('a closer of the wrong kind closes what is open first', () => {
    expect(readJson('{"a": [1, 2}').value).toEqual({ a: [1, 2] })
  })

  it('text with no JSON in it fails, quoting the text', () => {
    const result = parseModelJson("I'm sorry, but I can't produce that storyboard.")
    expect(result).toEqual({
      ok: false,
      message: `no JSON object or array in "I'm sorry, but I can't produce that storyboard."`,
    })
  })

  it('hopeless JSON fails with a short excerpt around the failure', () => {
    const text = `Here you go: {"scenes": [{"id": 1}, {"id": 2}], @@@ ${'filler '.repeat(40)}}`
    const result = parseModelJson(text)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.message).toMatch(/^not valid JSON even after repair \(.*\) near "/)
    const excerpt = /near "(.*)"$/.exec(result.message)![1]
    expect(excerpt.length).toBeLessThanOrEqual(120)
    expect(excerpt).toContain('@@@')
  })

  it('a nested object is never taken for the whole answer', () => {
    expect(parseModelJson('{"a": {"b": 1}, @@@ "c"}').ok).toBe(false)
  })
})
