/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are workflow templates, not JS ones */
import { describe, expect, it } from 'vitest'
import {
  isTruthy,
  references,
  render,
  TemplateError,
  type TemplateScope,
} from '../../core/workflows/template.js'

const scope: TemplateScope = {
  params: { characterName: 'Mira', mode: 'hd', count: 3, tags: ['a', 'b'], empty: null },
  job: { id: 'job-1', projectId: 'p-9', userId: 'alice' },
  steps: {
    prompts: { status: 'succeeded', output: { texts: ['front view', 'side view'], 'odd key': 7 } },
    poses: { output: [{ images: [] }, {}, { images: [{ url: 'https://img/2.png' }] }] },
  },
  item: { name: 'castle', size: 2 },
  index: 4,
}

describe('a template that is the whole string keeps the type of its value', () => {
  it('numbers, objects, arrays and booleans come back as they are', () => {
    expect(render('${{ params.count }}', scope)).toBe(3)
    expect(render('${{ steps.prompts.output }}', scope)).toEqual({
      texts: ['front view', 'side view'],
      'odd key': 7,
    })
    expect(render('${{ params.tags }}', scope)).toEqual(['a', 'b'])
    expect(render('${{ params.mode == "hd" }}', scope)).toBe(true)
  })

  it('a missing path is undefined', () => {
    expect(render('${{ params.nope.deeper }}', scope)).toBeUndefined()
    expect(render('${{ steps.prompts.output.texts[9] }}', scope)).toBeUndefined()
  })
})

describe('templates inside text are interpolated', () => {
  it('values as text, objects as JSON, missing values as nothing', () => {
    expect(render('views of ${{ params.characterName }} x${{ params.count }}', scope)).toBe(
      'views of Mira x3',
    )
    expect(render('tags: ${{ params.tags }}', scope)).toBe('tags: ["a","b"]')
    expect(render('[${{ params.nope }}][${{ params.empty }}]', scope)).toBe('[][]')
  })

  it('walks objects and arrays, leaving keys alone', () => {
    const value = { '${{ params.mode }}': ['${{ job.id }}', { n: '${{ index }}', keep: 5 }], flag: true }
    expect(render(value, scope)).toEqual({ '${{ params.mode }}': ['job-1', { n: 4, keep: 5 }], flag: true })
  })

  it('a string without templates is unchanged', () => {
    expect(render('plain $ { text } {{ }}', scope)).toBe('plain $ { text } {{ }}')
  })
})

describe('paths', () => {
  it('dots, indexes, quoted keys and the job', () => {
    expect(render('${{ steps.prompts.output.texts[0] }}', scope)).toBe('front view')
    expect(render('${{ steps.poses.output[2].images[0].url }}', scope)).toBe('https://img/2.png')
    expect(render('${{ steps.prompts.output["odd key"] }}', scope)).toBe(7)
    expect(render("${{ steps['prompts'].status }}", scope)).toBe('succeeded')
    expect(render('${{ job.projectId }}/${{ job.userId }}', scope)).toBe('p-9/alice')
  })

  it('item and index of a forEach', () => {
    expect(render('${{ item.name }} #${{ index }}', scope)).toBe('castle #4')
    expect(render('${{ item }}', scope)).toEqual({ name: 'castle', size: 2 })
  })

  it('reads own properties only', () => {
    expect(render('${{ params.constructor }}', scope)).toBeUndefined()
    expect(render('${{ params.__proto__ }}', scope)).toBeUndefined()
    expect(render('${{ params.characterName.length }}', scope)).toBeUndefined()
  })
})

describe('filters and conditions', () => {
  it('default is used for undefined and null only', () => {
    expect(render('${{ params.nope | default("anon") }}', scope)).toBe('anon')
    expect(render('${{ params.empty | default(0) }}', scope)).toBe(0)
    expect(render('${{ params.nope | default({"w": 512, "h": [1, 2]}) }}', scope)).toEqual({
      w: 512,
      h: [1, 2],
    })
    expect(render('${{ params.count | default(10) }}', scope)).toBe(3)
    expect(render('${{ params.nope | default("}}") }}!', scope)).toBe('}}!')
  })

  it('json stringifies', () => {
    expect(render('${{ params.tags | json }}', scope)).toBe('["a","b"]')
    expect(render('${{ params.characterName | json }}', scope)).toBe('"Mira"')
    expect(render('${{ params.nope | default([]) | json }}', scope)).toBe('[]')
  })

  it('==, != and !', () => {
    expect(render('${{ params.mode == "sd" }}', scope)).toBe(false)
    expect(render('${{ params.mode != "sd" }}', scope)).toBe(true)
    expect(render("${{ params.mode == 'hd' }}", scope)).toBe(true)
    expect(render('${{ params.count == 3 }}', scope)).toBe(true)
    expect(render('${{ params.tags == ["a", "b"] }}', scope)).toBe(true)
    expect(render('${{ !params.nope }}', scope)).toBe(true)
    expect(render('${{ !!params.tags }}', scope)).toBe(true)
    expect(render('${{ !params.mode == "hd" }}', scope)).toBe(false)
  })

  it('isTruthy', () => {
    for (const falsy of [false, 0, '', 'false', null, undefined, [], Number.NaN])
      expect(isTruthy(falsy)).toBe(false)
    for (const truthy of [true, 1, 'no', '0', {}, [0]]) expect(isTruthy(truthy)).toBe(true)
  })
})

describe('malformed expressions throw TemplateError', () => {
  it.each([
    '${{ }}',
    '${{ params.x',
    '${{ params. }}',
    '${{ params.x | nope }}',
    '${{ params.x | default }}',
    '${{ params.x | default("a" }}',
    '${{ params.x == }}',
    '${{ params.x == hd }}',
    '${{ params.x[-1] }}',
    '${{ params.x y }}',
    '${{ steps }}',
    '${{ env.HOME }}',
    '${{ process.exit() }}',
  ])('%s', (template) => {
    expect(() => render(template, scope)).toThrow(TemplateError)
    expect(() => references(template)).toThrow(TemplateError)
  })

  it('names the expression and what was expected', () => {
    expect(() => render('x ${{ params.x | nope }}', scope)).toThrow(
      /malformed template "\$\{\{ params.x \| nope \}\}": unknown filter 'nope'/,
    )
  })

  it('never runs code', () => {
    const attacks = [
      '${{ constructor.constructor("return process")() }}',
      '${{ params.constructor.constructor("return process")() }}',
      '${{ this.process }}',
      '${{ globalThis }}',
    ]
    for (const attack of attacks) {
      let rendered: unknown
      try {
        rendered = render(attack, scope)
      } catch (err) {
        expect(err).toBeInstanceOf(TemplateError)
      }
      expect(rendered).toBeUndefined()
    }
  })
})

describe('references', () => {
  it('lists every path read, anywhere in the value', () => {
    const refs = references({
      text: 'of ${{ params.characterName }} by ${{ job.userId }}',
      nested: ['${{ steps.prompts.output.texts[0] }}', { deep: '${{ steps["odd.id"].output["a b"] }}' }],
      each: '${{ item.name | default("x") }} ${{ index }}',
      plain: 'no templates',
      n: 5,
    })
    expect(refs).toEqual([
      { root: 'params', path: ['characterName'] },
      { root: 'job', path: ['userId'] },
      { root: 'steps', stepId: 'prompts', path: ['output', 'texts', 0] },
      { root: 'steps', stepId: 'odd.id', path: ['output', 'a b'] },
      { root: 'item', path: ['name'] },
      { root: 'index', path: [] },
    ])
  })
})
