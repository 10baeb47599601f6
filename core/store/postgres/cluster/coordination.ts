/**
 * One node's link to the others: a listening connection that hears signals
 * and holds the leader's advisory lock, a timer that renews this node's
 * leases, and cluster-wide locks. The leader lock is a session lock, so a
 * node that dies (its connection closes) stops leading at once.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { ClusterCoordination, ClusterHandlers, ClusterSignal } from '../../../model/cluster.js'
import { channelOf, decodeSignal, encodeSignal, LOCK } from './channel.js'
import { createSharedEventLog } from './shared-event-log.js'
import { createSlotLeases } from './slot-leases.js'
import { createTaskQueue } from './task-queue.js'
import { vacuumChurned } from './vacuum.js'

export interface CoordinationOptions {
  url: string
  schema: string
  /** A lease not renewed for this long is lost; renewed every third of it. */
  leaseMs: number
  log?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
}

// withLock holds a connection while its work runs on the main pool: a pool of its own, so
// lock holders waiting for connections can never starve the work they wait on
const LOCK_CONNECTIONS = 4

export function createCoordination(pool: pg.Pool, opts: CoordinationOptions): ClusterCoordination {
  const { schema, leaseMs } = opts
  const log = opts.log ?? (() => {})
  const nodeId = randomUUID()
  const channel = channelOf(schema)
  const lockPool = new pg.Pool({ connectionString: opts.url, max: LOCK_CONNECTIONS })
  lockPool.on('error', () => {})
  let listener: pg.Client | undefined
  let handlers: ClusterHandlers | undefined
  let leading = false
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let ticking = false

  function lead(now: boolean) {
    if (leading === now) return
    leading = now
    log('info', now ? 'cluster: this node leads' : 'cluster: this node no longer leads', { nodeId })
    handlers?.onLeadership(now)
  }

  async function connect(): Promise<void> {
    // a query that hangs means a connection that is gone: it must fail within a tick
    const client = new pg.Client({ connectionString: opts.url, query_timeout: Math.max(1000, leaseMs / 3) })
    client.on('error', (err) => {
      log('warn', 'cluster: the listening connection failed', { err: err.message })
      if (listener === client) listener = undefined
      lead(false)
      client.end().catch(() => {})
    })
    client.on('notification', (msg) => {
      if (msg.channel !== channel.name) return
      const signal = decodeSignal(msg.payload)
      if (signal) handlers?.onSignal(signal)
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${channel.quoted}`)
    } catch (err) {
      await client.end().catch(() => {})
      throw err
    }
    listener = client
    // what was said while no connection listened is found by the polls (events, claims, outbox)
    handlers?.onSignal({ kind: 'tasks' })
  }

  /** Says this node is alive and extends its leases, in one statement; returns the tasks it still holds. */
  async function renew(): Promise<Set<string>> {
    const { rows } = await pool.query<{ task_id: string | null }>(
      `WITH seen AS (
         INSERT INTO nodes (node_id, seen_at) VALUES ($1, now())
         ON CONFLICT (node_id) DO UPDATE SET seen_at = now()
       )
       UPDATE leases SET expires_at = now() + $2 * interval '1 millisecond' WHERE node_id = $1 RETURNING task_id`,
      [nodeId, leaseMs],
    )
    return new Set(rows.flatMap((r) => (r.task_id ? [r.task_id] : [])))
  }

  /** Every third of a lease: reconnect if needed, check a leader's connection, try to lead. */
  async function tick() {
    if (ticking || stopped) return
    ticking = true
    try {
      if (!listener) await connect()
      // a leader whose connection died silently (a cut network) must stop leading: the lock went with it
      else if (leading) await listener.query('SELECT 1')
      if (!leading && listener) {
        const { rows } = await listener.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok',
          [schema, LOCK.leader],
        )
        if (rows[0].ok) lead(true)
      }
    } catch (err) {
      log('warn', 'cluster: could not reach the database', { err: (err as Error).message })
      lead(false)
      // a fresh connection next tick: LISTEN and the lock belong to this one, which may be gone
      const gone = listener
      listener = undefined
      gone?.end().catch(() => {})
    } finally {
      ticking = false
    }
  }

  return {
    nodeId,
    leaseMs,
    queue: createTaskQueue(pool, schema, nodeId, leaseMs),
    slots: createSlotLeases(pool, schema, nodeId, leaseMs),
    events: createSharedEventLog(pool, schema),

    renew,

    async liveNodes() {
      const { rows } = await pool.query<{ node_id: string }>(
        `SELECT node_id FROM nodes WHERE seen_at > now() - $1 * interval '1 millisecond'`,
        [leaseMs],
      )
      return new Set(rows.map((r) => r.node_id))
    },

    async signal(signal: ClusterSignal) {
      await pool.query('SELECT pg_notify($1, $2)', [channel.name, encodeSignal(signal)])
    },

    async start(h) {
      handlers = h
      await renew()
      // nodes gone for a day are forgotten
      await pool.query(`DELETE FROM nodes WHERE seen_at < now() - interval '1 day'`)
      await connect()
      await tick()
      timer = setInterval(tick, Math.max(50, Math.floor(leaseMs / 3)))
      timer.unref()
    },

    async stop() {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      // what this node still holds is free at once, rather than after its leases run out
      await pool.query('DELETE FROM leases WHERE node_id = $1', [nodeId]).catch(() => {})
      await pool.query('DELETE FROM nodes WHERE node_id = $1', [nodeId]).catch(() => {})
      lead(false)
      await listener?.end().catch(() => {})
      listener = undefined
      await lockPool.end()
    },

    async withLock(key, work) {
      const client = await lockPool.connect()
      const args = [`${schema}:lock`, key]
      try {
        await client.query('SELECT pg_advisory_lock(hashtext($1), hashtext($2))', args)
      } catch (err) {
        client.release(err as Error)
        throw err
      }
      try {
        return await work()
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', args).then(
          () => client.release(),
          (err) => client.release(err), // a broken connection drops its locks with it
        )
      }
    },

    vacuum: () => vacuumChurned(pool, schema),

    async sharedSecret(name, proposed) {
      // the insert's row, or (when another node's came first) the stored one: the select does not see the insert
      const first = await pool.query<{ value: string }>(
        `WITH mine AS (INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value)
         SELECT value FROM mine UNION ALL SELECT value FROM secrets WHERE name = $1`,
        [name, proposed],
      )
      if (first.rows.length) return first.rows[0].value
      // a node inserting at the same moment committed after this statement's snapshot: read it now
      const again = await pool.query<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [name])
      return again.rows[0].value
    },
  }
}
