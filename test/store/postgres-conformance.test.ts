/**
 * The Store conformance suite on PostgreSQL: each test gets a schema of its own
 * (as graphile-worker's and pg-boss's tests do), dropped when it ends.
 * Runs when GANTRY_TEST_PG names a database, e.g.
 * `GANTRY_TEST_PG=postgres://postgres@127.0.0.1:5432/test npx vitest run test/store/postgres-conformance.test.ts`.
 */
import { describe, it } from 'vitest'
import { createPostgresStore } from '../../core/store/postgres/index.js'
import { dropSchema, newSchema, PG_URL } from '../pg-schema.js'
import { storeConformance } from './conformance.js'

const url = PG_URL

if (url) {
  storeConformance('the PostgreSQL store', async () => {
    const schema = newSchema('test')
    return {
      connect: () => createPostgresStore(url, { schema, poolSize: 4 }),
      cleanup: () => dropSchema(schema),
    }
  })
} else {
  describe.skip('the PostgreSQL store: skipped, GANTRY_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)', () => {
    it('passes the Store conformance suite', () => {})
  })
}
