import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDefinitionLoader } from '../../core/definitions/loader.js'
import type { DefinitionError } from '../../core/definitions/types.js'
import { EXECUTOR, providers, tempDefinitionsDir } from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDefinitionsDir>>
beforeEach(async () => {
  tmp = await tempDefinitionsDir()
})
afterEach(() => tmp.cleanup())

/** Loads the temp folder and returns its errors as `line:col message` plus the error objects. */
async function errorsOf(files: Record<string, string[]>, env: Record<string, string> = {}) {
  for (const [name, lines] of Object.entries(files)) await tmp.write(name, lines)
  const set = await createDefinitionLoader({ dirs: [tmp.dir], providers, env }).load()
  return {
    set,
    lines: set.errors.map(
      (e: DefinitionError) => `${e.file.slice(tmp.dir.length + 1)}:${e.line}:${e.col} ${e.message}`,
    ),
  }
}

describe('refused files are reported at the YAML node at fault', () => {
  it('a YAML syntax error', async () => {
    const { lines, set } = await errorsOf({
      'a.yaml': ['kind: Executor', 'id: x', 'provider: [mock', 'timeout: 1s'],
    })
    expect(lines).toEqual([
      'a.yaml:4:1 Flow sequence in block collection must be sufficiently indented and end with a ]',
    ])
    expect(set.executors.size).toBe(0)
  })

  it('a missing required field, at the document', async () => {
    const { set } = await errorsOf({
      'a.yaml': [...EXECUTOR, '---', '# the echo', 'kind: Ability', 'id: echo'],
    })
    expect(set.errors).toEqual([
      {
        file: `${tmp.dir}/a.yaml`,
        line: 6,
        col: 1,
        message: "must have required property 'executor'",
        schemaPath: '#/required',
        kind: 'Ability',
        id: 'echo',
      },
    ])
  })

  it('a wrong type, at the value, however deep', async () => {
    const { lines } = await errorsOf({
      'a.yaml': [...EXECUTOR, 'maxConcurrency: two', 'retry: { max: 1, backoff: soon }'],
      'b.yaml': [
        'kind: Workflow',
        'id: w',
        'steps:',
        '  - id: one',
        '    ability: echo',
        '    with:',
        '      text: hi',
        '    continueOnError: maybe',
      ],
    })
    expect(lines).toEqual([
      'a.yaml:4:17 maxConcurrency must be integer',
      'a.yaml:5:27 retry.backoff must be a duration such as 500ms, 30s, 10m, 1h or a number of milliseconds',
      'b.yaml:8:22 steps[0].continueOnError must be boolean',
    ])
  })

  it('an unknown key, at the key, with the schema path', async () => {
    const { set, lines } = await errorsOf({ 'a.yaml': [...EXECUTOR, 'maxConcurency: 2'] })
    expect(lines).toEqual(["a.yaml:4:1 unknown property 'maxConcurency'"])
    expect(set.errors[0].schemaPath).toBe('#/additionalProperties')
  })

  it('an unknown executor, provider or kind', async () => {
    const { lines } = await errorsOf({
      'a.yaml': ['kind: Ability', 'id: echo', 'executor: nope'],
      'b.yaml': ['kind: Executor', 'id: x', 'provider: nope'],
      'c.yaml': ['kind: Executer', 'id: x'],
    })
    expect(lines).toEqual([
      "a.yaml:3:11 unknown executor 'nope'",
      "b.yaml:3:11 unknown provider 'nope'",
      'c.yaml:1:7 unknown kind "Executer" (expected Executor, Ability, Workflow)',
    ])
  })

  it("a config the provider's schemas refuse, inside the config", async () => {
    const { lines } = await errorsOf({
      'a.yaml': ['kind: Executor', 'id: s', 'provider: strict', 'config:', '  baseUrl: 42'],
      'b.yaml': ['kind: Executor', 'id: t', 'provider: strict', 'config:', '  timeout: 5'],
      'c.yaml': [
        'kind: Executor',
        'id: ok',
        'provider: strict',
        'config: { baseUrl: "http://x" }',
        '---',
        'kind: Ability',
        'id: draw',
        'executor: ok',
        'config:',
        '  modle: gpt',
      ],
    })
    expect(lines).toEqual([
      'a.yaml:5:12 config.baseUrl must be string',
      "b.yaml:5:3 config must have required property 'baseUrl'",
      "c.yaml:10:3 unknown property 'modle' in config",
    ])
  })

  it('an unset environment variable: the executor loads as not configured, naming it', async () => {
    const { lines, set } = await errorsOf(
      {
        'a.yaml': [
          ...EXECUTOR,
          'config:',
          '  headers:',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
          '    Authorization: "Bearer ${env:API_KEY} ${env:ORG}"',
        ],
      },
      { ORG: 'acme' },
    )
    expect(lines).toEqual([])
    expect([...set.executors.values()][0].notConfigured).toEqual([
      "environment variable 'API_KEY' is not set",
    ])
  })

  it('an input that is not a JSON Schema, at the input', async () => {
    const { lines } = await errorsOf({
      'a.yaml': [
        ...EXECUTOR,
        '---',
        'kind: Ability',
        'id: echo',
        'executor: local-mock',
        'input:',
        '  type: object',
        '  propertys: {}',
      ],
    })
    expect(lines).toEqual([
      'a.yaml:9:3 input is not a valid JSON Schema: strict mode: unknown keyword: "propertys"',
    ])
  })

  it('a duplicate id, naming both files; the first in path order wins', async () => {
    const { lines, set } = await errorsOf({
      'a.yaml': ['# first', ...EXECUTOR, 'maxConcurrency: 1'],
      'b.yaml': [...EXECUTOR, 'maxConcurrency: 5'],
    })
    expect(lines).toEqual([
      `b.yaml:2:5 duplicate Executor id 'local-mock' (also defined in ${tmp.dir}/a.yaml:2:1)`,
    ])
    expect(set.executors.get('local-mock')?.maxConcurrency).toBe(1)
  })

  it('workflow steps naming unknown abilities or steps', async () => {
    const { lines } = await errorsOf({
      'a.yaml': [...EXECUTOR, '---', 'kind: Ability', 'id: echo', 'executor: local-mock'],
      'b.yaml': [
        'kind: Workflow',
        'id: w',
        'steps:',
        '  - { id: a, ability: echo, needs: [b] }',
        '  - { id: b, ability: ech, needs: [] }',
      ],
      'c.yaml': [
        'kind: Workflow',
        'id: v',
        'steps:',
        '  - { id: a, ability: echo, needs: [zz] }',
        '  - { id: a, ability: echo }',
      ],
    })
    expect(lines).toEqual([
      "b.yaml:5:23 unknown ability 'ech' in step 'b'",
      "c.yaml:4:37 step 'a' needs unknown step 'zz'",
      "c.yaml:5:11 duplicate step id 'a'",
    ])
  })

  it('one bad document refuses its whole file, and what depends on it', async () => {
    const { lines, set } = await errorsOf({
      'a.yaml': [...EXECUTOR, '---', 'kind: Ability', 'id: echo', 'executor: local-mock', 'bogus: 1'],
      'b.yaml': ['kind: Ability', 'id: other', 'executor: local-mock'],
    })
    expect(lines).toEqual([
      "a.yaml:8:1 unknown property 'bogus'",
      "b.yaml:3:11 unknown executor 'local-mock'",
    ])
    expect([set.executors.size, set.abilities.size]).toEqual([0, 0])
  })
})
