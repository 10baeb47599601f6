import type { Pool, PoolClient } from 'pg'

/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pool | PoolClient

/** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    client.release()
    return result
  } catch (err) {
    try {
      await client.query('ROLLBACK')
      client.release()
    } catch (rollbackError) {
      // a connection that cannot even roll back is broken: destroy it rather than reuse it
      client.release(rollbackError as Error)
    }
    throw err
  }
}
