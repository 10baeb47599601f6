import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDefinitionLoader } from '../../core/definitions/loader.js'
import { providers, tempDefinitionsDir } from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDefinitionsDir>>
beforeEach(async () => {
  tmp = await tempDefinitionsDir()
})
afterEach(() => tmp.cleanup())

const load = (env: Record<string, string> = {}) =>
  createDefinitionLoader({ dirs: [tmp.dir], providers, env }).load()

describe('loading definitions', () => {
  it('reads an executor and its abilities from one multi-document file', async () => {
    const file = await tmp.write('demo.yaml', [
      'kind: Executor',
      'id: local-mock',
      'provider: mock',
      'timeout: 30s',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
      'config: { token: "Bearer ${env:TOKEN}", nested: [ "${env:HOST}:${env:PORT}" ] }',
      '---',
      'kind: Ability',
      'id: demo.echo',
      'name: Echo',
      'description: Returns its inputs.',
      'executor: local-mock',
      'type: text',
      'input:',
      '  type: object',
      '  required: [text]',
      '  properties:',
      '    text: { type: string }',
      '    resolution: { type: string, default: hd }',
      'retry: { max: 2, backoff: 1s }',
      'pricing:',
      '  base: 18',
      '  add:',
      '    - { when: { resolution: 4k }, points: 14 }',
      '---',
      'kind: Ability',
      'id: demo.bare',
      'executor: local-mock',
    ])

    const set = await load({ TOKEN: 's3cret', HOST: 'h', PORT: '80' })

    expect(set.errors).toEqual([])
    expect(set.version).toBe(1)
    expect(set.executors.get('local-mock')).toEqual({
      id: 'local-mock',
      provider: 'mock',
      maxConcurrency: 1,
      timeoutMs: 30_000,
      config: { token: 'Bearer s3cret', nested: ['h:80'] },
      source: { file, line: 1, col: 1 },
    })
    const echo = set.abilities.get('demo.echo')!
    expect(echo).toMatchObject({
      name: 'Echo',
      type: 'text',
      executorId: 'local-mock',
      defaults: { resolution: 'hd' },
      retry: { max: 2, backoffMs: 1000 },
      pricing: { base: 18, add: [{ when: { resolution: '4k' }, points: 14 }] },
      tags: [],
      source: { file, line: 7, col: 1 },
    })
    expect(set.abilities.get('demo.bare')).toMatchObject({
      name: 'demo.bare',
      description: '',
      input: { type: 'object' },
      defaults: {},
      config: {},
    })
  })

  it('checkInput applies defaults to a copy and leaves the caller object alone', async () => {
    await tmp.write('a.yaml', [
      'kind: Executor',
      'id: x',
      'provider: mock',
      '---',
      'kind: Ability',
      'id: draw',
      'executor: x',
      'input:',
      '  type: object',
      '  required: [prompt]',
      '  properties:',
      '    prompt: { type: string }',
      '    steps: { type: integer, default: 20 }',
      '    size: { type: object, default: { w: 512 } }',
    ])
    const draw = (await load()).abilities.get('draw')!
    const inputs = { prompt: 'a cat' }

    const checked = draw.checkInput(inputs)

    expect(checked).toEqual({ ok: true, inputs: { prompt: 'a cat', steps: 20, size: { w: 512 } } })
    expect(inputs).toEqual({ prompt: 'a cat' })
    expect(draw.checkInput({ steps: 'many' })).toEqual({
      ok: false,
      errors: [
        { path: '/prompt', message: "must have required property 'prompt'" },
        { path: '/steps', message: 'must be integer' },
      ],
    })
  })

  it('loads workflows from nested folders, steps in order with their positions', async () => {
    await tmp.write('abilities/echo.yml', [
      'kind: Executor',
      'id: x',
      'provider: mock',
      '---',
      'kind: Ability',
      'id: echo',
      'executor: x',
    ])
    const file = await tmp.write('flows/deep/views.yaml', [
      'kind: Workflow',
      'id: views',
      'input: { type: object, required: [name], properties: { name: { type: string } } }',
      'steps:',
      '  - id: prompts',
      '    ability: echo',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
      '    with: { text: "views of ${{ params.name }}" }',
      '  - id: front',
      '    ability: echo',
      '    needs: [prompts]',
      '    parse: json',
      '    timeout: 2m',
    ])

    const set = await load()

    expect(set.errors).toEqual([])
    const views = set.workflows.get('views')!
    expect(views.name).toBe('views')
    expect(views.steps).toEqual([
      {
        id: 'prompts',
        ability: 'echo',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
        with: { text: 'views of ${{ params.name }}' },
        // the first step, with no needs, runs at the start
        needs: [],
        continueOnError: false,
        source: { file, line: 5, col: 5 },
      },
      {
        id: 'front',
        ability: 'echo',
        with: {},
        needs: ['prompts'],
        parse: 'json',
        timeoutMs: 120_000,
        continueOnError: false,
        source: { file, line: 8, col: 5 },
      },
    ])
    expect(views.checkInput({})).toEqual({
      ok: false,
      errors: [{ path: '/name', message: "must have required property 'name'" }],
    })
  })

  it('serves an empty set for a folder that does not exist', async () => {
    const set = await createDefinitionLoader({ dirs: [`${tmp.dir}/nope`], providers }).load()
    expect([set.executors.size, set.abilities.size, set.workflows.size, set.errors.length]).toEqual([
      0, 0, 0, 0,
    ])
  })
})
