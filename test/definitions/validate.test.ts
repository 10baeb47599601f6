import { describe, expect, it } from 'vitest'
import { formatDefinitionError, validateDirs } from '../../core/definitions/validate.js'
import { providers } from './helpers.js'

const FIXTURES = 'test/fixtures/definitions'

describe('gantry validate', () => {
  it('finds nothing wrong with the contract example', async () => {
    expect(await validateDirs([`${FIXTURES}/valid`], providers, {})).toEqual([])
  })

  it('prints file:line:col message [schemaPath], paths relative to the cwd, sorted', async () => {
    const errors = await validateDirs([`${FIXTURES}/broken`], providers, {})
    expect(errors.map(formatDefinitionError)).toEqual([
      `${FIXTURES}/broken/abilities.yaml:3:11 unknown executor 'remote'`,
      `${FIXTURES}/broken/executors.yaml:4:17 maxConcurrency must be >= 1 [#/properties/maxConcurrency/minimum]`,
      `${FIXTURES}/broken/inputs.yaml:11:3 input is not a valid JSON Schema: properties.size.type must be one of "array", "boolean", "integer", "null", "number", "object", "string"`,
    ])
  })

  it('reports a directory that does not exist', async () => {
    const errors = await validateDirs([`${FIXTURES}/nope`], providers, {})
    expect(errors.map(formatDefinitionError)).toEqual([`${FIXTURES}/nope:1:1 no such directory`])
  })

  it('formats an error without a schema path', () => {
    expect(
      formatDefinitionError({ file: 'a.yaml', line: 3, col: 11, message: "unknown executor 'nope'" }),
    ).toBe("a.yaml:3:11 unknown executor 'nope'")
  })
})
