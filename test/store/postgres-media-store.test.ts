/**
 * The MediaStore contract on PostgreSQL, each test in a schema of its own.
 * Runs when GANTRY_TEST_PG names a database (e.g. postgres://postgres@127.0.0.1:5432/test).
 */
import type { Pool } from 'pg'
import { describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../core/store/postgres/index.js'
import { createPostgresMediaStore } from '../../core/store/postgres/media-store.js'
import { mediaStoreConformance } from '../media/media-store-conformance.js'
import { dropSchema, newSchema, PG_URL, SKIP_TITLE } from '../pg-schema.js'

if (PG_URL) {
  const url = PG_URL
  mediaStoreConformance('the PostgreSQL media store', async () => {
    const schema = newSchema('media')
    const store = createPostgresStore(url, { schema, poolSize: 2 })
    await store.open()
    return {
      store: store.media,
      async cleanup() {
        await store.close()
        await dropSchema(schema)
      },
    }
  })
} else {
  describe.skip(`the PostgreSQL media store: ${SKIP_TITLE}`, () => {
    it('passes the MediaStore contract', () => {})
  })
}

describe('the PostgreSQL media store, without a database', () => {
  it('answers a malformed key without asking the database', async () => {
    const unreachable = {
      query: () => Promise.reject(new Error('the database was asked')),
    } as unknown as Pool
    expect(await createPostgresMediaStore(unreachable).get('../../etc/passwd')).toBeUndefined()
    await expect(createPostgresMediaStore(unreachable).get(`${'a'.repeat(64)}.png`)).rejects.toThrow(
      'the database was asked',
    )
  })
})
