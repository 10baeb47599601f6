/** A private schema per test on the Postgres of GANTRY_TEST_PG, dropped afterwards. */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const PG_URL = process.env.GANTRY_TEST_PG

export const SKIP_TITLE = 'skipped: GANTRY_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)'

export function newSchema(prefix = 'cluster'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}
