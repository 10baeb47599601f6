/**
 * HTTP-level tests that concern both stores run once on each: the embedded
 * store always, PostgreSQL when GANTRY_TEST_PG names a database (a schema of
 * its own, dropped afterwards); skipped, saying so, when it is unset.
 */
import { afterAll, describe, it } from 'vitest'
import { dropSchema, newSchema, PG_URL, SKIP_TITLE } from './pg-schema.js'

/** `body` gets the environment that points a `startGantry` at the store. */
export function describeEachStore(title: string, body: (env: Record<string, string>) => void): void {
  describe(`${title} (embedded store)`, () => body({}))
  if (!PG_URL) {
    describe.skip(`${title} (PostgreSQL): ${SKIP_TITLE}`, () => {
      it('runs on PostgreSQL', () => {})
    })
    return
  }
  const url = PG_URL
  describe(`${title} (PostgreSQL)`, () => {
    const schema = newSchema('http')
    // registered first, so it runs after the body's own afterAll has stopped its servers
    afterAll(() => dropSchema(schema))
    body({ GANTRY_STORE: url, GANTRY_PG_SCHEMA: schema })
  })
}
