/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are YAML text with workflow templates */
import { readFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkStepInputs } from '../../core/definitions/build-workflow.js'
import { createDefinitionLoader } from '../../core/definitions/loader.js'
import { parseDefinitionFile } from '../../core/definitions/parse-file.js'
import type { AbilityDef, DefinitionError } from '../../core/definitions/types.js'
import { EXECUTOR, providers, tempDefinitionsDir } from '../definitions/helpers.js'

let tmp: Awaited<ReturnType<typeof tempDefinitionsDir>>
beforeEach(async () => {
  tmp = await tempDefinitionsDir()
})
afterEach(() => tmp.cleanup())

const ABILITIES = [
  ...EXECUTOR,
  '---',
  'kind: Ability',
  'id: echo',
  'executor: local-mock',
  '---',
  'kind: Ability',
  'id: draw',
  'executor: local-mock',
  'input:',
  '  type: object',
  '  required: [prompt, size, style]',
  '  properties:',
  '    prompt: { type: string }',
  '    size: { type: integer }',
  '    style: { type: string, default: flat }',
]

/** Loads the abilities plus `workflow` as w.yaml; errors as `line:col message`. */
async function load(workflow: string[]) {
  await tmp.write('abilities.yaml', ABILITIES)
  await tmp.write('w.yaml', ['kind: Workflow', 'id: w', ...workflow])
  const set = await createDefinitionLoader({ dirs: [tmp.dir], providers }).load()
  const lines = set.errors.map((e: DefinitionError) => `${e.line}:${e.col} ${e.message}`)
  return { set, lines }
}

describe('needs', () => {
  it('omitted means after the previous step; [] means at the start', async () => {
    const { set, lines } = await load([
      'steps:',
      '  - { id: a, ability: echo }',
      '  - { id: b, ability: echo }',
      '  - { id: c, ability: echo, needs: [] }',
      '  - { id: d, ability: echo, needs: [a, c] }',
    ])
    expect(lines).toEqual([])
    expect(set.workflows.get('w')!.steps.map((s) => [s.id, s.needs])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['c', []],
      ['d', ['a', 'c']],
    ])
  })

  it('an unknown step, or the step itself, at that needs item', async () => {
    const { lines } = await load([
      'steps:',
      '  - id: a',
      '    ability: echo',
      '    needs: [a]',
      '  - id: b',
      '    ability: echo',
      '    needs:',
      '      - a',
      '      - nope',
    ])
    expect(lines).toEqual(["6:13 step 'a' cannot need itself", "11:9 step 'b' needs unknown step 'nope'"])
  })

  it('a cycle, named, at the needs of its first step', async () => {
    const { lines } = await load([
      'steps:',
      '  - id: start',
      '    ability: echo',
      '  - id: a',
      '    ability: echo',
      '    needs: [c]',
      '  - id: b',
      '    ability: echo',
      '    needs: [a]',
      '  - id: c',
      '    ability: echo',
      '    needs: [b, start]',
    ])
    expect(lines).toEqual(['8:12 steps form a cycle: a -> c -> b -> a'])
  })

  it('a cycle through a step without needs says why', async () => {
    const { lines } = await load([
      'steps:',
      '  - { id: a, ability: echo, needs: [b] }',
      '  - { id: b, ability: echo }',
    ])
    expect(lines).toEqual([
      "4:36 steps form a cycle: a -> b -> a ('b' has no needs, so it runs after the step before it; give it needs: [] to start at once)",
    ])
  })
})

describe('templates', () => {
  it('a malformed template, at its value however deep', async () => {
    const { lines } = await load([
      'steps:',
      '  - id: a',
      '    ability: echo',
      '    with:',
      '      text: ok',
      '      extra:',
      '        list: [fine, "${{ params.x | upper }}"]',
      '    if: "${{ params.go == }}"',
    ])
    expect(lines).toEqual([
      `9:22 malformed template "\${{ params.x | upper }}": unknown filter 'upper'`,
      `10:9 malformed template "\${{ params.go == }}": expected a JSON literal`,
    ])
  })

  it('steps that are unknown, not needed, or the step itself', async () => {
    const { lines } = await load([
      'steps:',
      '  - { id: a, ability: echo, needs: [] }',
      '  - { id: b, ability: echo, needs: [] }',
      '  - id: c',
      '    ability: echo',
      '    needs: [a]',
      '    with:',
      '      x: "${{ steps.a.output.texts[0] }} and ${{ steps.b.output }}"',
      '      y: "${{ steps.ghost.output }}"',
      '      z: "${{ steps.c.status }}"',
    ])
    expect(lines).toEqual([
      "10:10 step 'c' uses steps.b but does not need it",
      "11:10 step 'c' uses steps.ghost, which is not a step of this workflow",
      "12:10 step 'c' uses its own steps.c",
    ])
  })

  it('a dependency through other steps is a dependency', async () => {
    const { lines } = await load([
      'steps:',
      '  - { id: a, ability: echo }',
      '  - { id: b, ability: echo }',
      '  - { id: c, ability: echo, needs: [b], with: { text: "${{ steps.a.output }}" } }',
    ])
    expect(lines).toEqual([])
  })

  it('item and index only in the with and if of a forEach step', async () => {
    const { lines } = await load([
      'steps:',
      '  - id: list',
      '    ability: echo',
      '  - id: each',
      '    ability: echo',
      '    forEach: "${{ steps.list.output.texts }}"',
      '    if: "${{ item != \\"skip\\" }}"',
      '    with: { text: "${{ item }} #${{ index }}" }',
      '  - id: after',
      '    ability: echo',
      '    forEach: "${{ item }}"',
      '  - id: plain',
      '    ability: echo',
      '    with: { text: "${{ index }}" }',
    ])
    expect(lines).toEqual([
      "13:14 step 'after' uses item, which only the with and if of a forEach step can use",
      "16:19 step 'plain' uses index, which only the with and if of a forEach step can use",
    ])
  })

  it('output and singleton may read any step, but only steps that exist', async () => {
    const { lines } = await load([
      'steps:',
      '  - { id: a, ability: echo, needs: [] }',
      '  - { id: b, ability: echo, needs: [] }',
      'output:',
      '  first: "${{ steps.a.output }}"',
      '  second: "${{ steps.b.output.texts[0] }} for ${{ job.projectId }}"',
      '  lost: "${{ steps.zz.output }}"',
      '  each: "${{ item }}"',
      'singleton: "${{ params.projectId }}-${{ steps.a.output"',
    ])
    expect(lines).toEqual([
      '9:9 output uses steps.zz, which is not a step of this workflow',
      '10:9 output uses item, which only the with and if of a forEach step can use',
      `11:12 unterminated template in "\${{ params.projectId }}-\${{ steps.a.output": missing '}}'`,
    ])
  })
})

describe('inputs the ability requires', () => {
  /** Parses abilities and workflow from one file, as resolve.ts would see them, and runs the check. */
  async function inputProblems(workflow: string[]) {
    const file = await tmp.write('all.yaml', [...ABILITIES, '---', 'kind: Workflow', 'id: w', ...workflow])
    const parsed = parseDefinitionFile(file, await readFile(file, 'utf8'), { providers, env: {} })
    expect(parsed.errors).toEqual([])
    const abilities = new Map<string, AbilityDef>()
    for (const d of parsed.defs) if (d.kind === 'Ability') abilities.set(d.id, d.def)
    const loaded = parsed.defs.find((d) => d.kind === 'Workflow')!
    if (loaded.kind !== 'Workflow') throw new Error('no workflow')
    return checkStepInputs(loaded.def, abilities).map((p) => {
      const at = loaded.at(p.path, p.mode)
      return `${at.line}:${at.col} ${p.message}`
    })
  }

  it('every required input without a default must be given, named at the with', async () => {
    const problems = await inputProblems([
      'steps:',
      '  - id: one',
      '    ability: draw',
      '    with:',
      '      prompt: a cat',
      '  - id: two',
      '    ability: draw',
      '  - id: fine',
      '    ability: draw',
      '    with: { prompt: "${{ params.p }}", size: 512 }',
    ])
    expect(problems).toEqual([
      "26:7 step 'one' does not give ability 'draw' its required input 'size'",
      "27:5 step 'two' does not give ability 'draw' its required inputs 'prompt', 'size'",
    ])
  })
})

describe('maxItems', () => {
  it('is read on a forEach step; without forEach, or below 1, it is an error at its line', async () => {
    const good = await load([
      'steps:',
      '  - { id: a, ability: echo, forEach: "${{ params.list }}", maxItems: 50 }',
    ])
    expect(good.lines).toEqual([])
    expect(good.set.workflows.get('w')!.steps[0].maxItems).toBe(50)

    const alone = await load(['steps:', '  - { id: a, ability: echo, maxItems: 5 }'])
    expect(alone.lines).toEqual([expect.stringMatching(/^4:\d+ step 'a' has maxItems but no forEach$/)])

    const zero = await load([
      'steps:',
      '  - { id: a, ability: echo, forEach: "${{ params.list }}", maxItems: 0 }',
    ])
    expect(zero.lines).toHaveLength(1)
    expect(zero.lines[0]).toMatch(/^4:\d+ .*maxItems/)
  })
})
