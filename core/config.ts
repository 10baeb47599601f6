/**
 * Configuration: every default in one place, next to its environment
 * variable, read and checked once at start. A bad value stops the start with
 * a message that names the variable.
 */
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { parseDuration } from './duration.js'
import { GantryError } from './errors.js'

export interface Config {
  port: number
  host: string
  dataDir: string
  abilitiesDir: string
  workflowsDir: string
  plugins: string[]
  /** Undefined: generated once into the data dir. */
  jwtSecret?: string
  jwtIssuer?: string
  jwtAudience?: string
  store: string
  /**
   * The embedded store: when an accepted task, a hold or a job change is answered. `interval`:
   * once written (a kill -9 loses nothing; a power loss up to the last second); `fsync`: once fsynced.
   */
  durability: 'interval' | 'fsync'
  /** Connections of the PostgreSQL store's pool. */
  pgPoolSize: number
  /** The PostgreSQL schema Gantry's tables live in (one per deployment or test). */
  pgSchema: string
  /** In a cluster (PostgreSQL), a running task's lease: a node that stops renewing it for this long loses it. */
  leaseMs: number
  /** In a cluster, how often a node claims tasks when nothing woke it. */
  claimPollMs: number
  maxWorkers: number
  callsPerWorker: number
  webhookSecret?: string
  allowPrivateCallbacks: boolean
  bodyLimitBytes: number
  shutdownGraceMs: number
  /** How long a start waits for another process's data-dir lock to be released or go stale. */
  lockWaitMs: number
  /** How long a task may wait in the queue unless its ability or executor says otherwise. */
  queueTimeoutMs: number
  /** Ended tasks, logs and settled callbacks older than this are swept away. */
  retentionMs: number
  sweepTimeoutsCron: string
  sweepRetentionCron: string
  /** Largest result media item kept in the media store. */
  mediaMaxBytes: number
  /** Largest definitions YAML file loaded; parsing is synchronous, so a bigger one is refused. */
  maxDefinitionBytes: number
  callbackMaxAttempts: number
  callbackBackoffMs: number
  /** Most items one workflow `forEach` fans out to, unless the step sets its own `maxItems`. */
  maxFanout: number
  logLevel: 'debug' | 'info' | 'warn' | 'error'
}

type Env = Record<string, string | undefined>

function integer(env: Env, name: string, fallback: number, min = 1): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw badConfig(`${name} must be an integer >= ${min}, got '${raw}'`)
  return n
}

function duration(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const ms = parseDuration(/^\d+$/.test(raw) ? Number(raw) : raw)
  if (ms === undefined) throw badConfig(`${name} must be a duration such as 500ms, 30s or 10m, got '${raw}'`)
  return ms
}

function bool(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase()
  if (raw === '' || raw === 'false' || raw === '0') return false
  if (raw === 'true' || raw === '1') return true
  throw badConfig(`${name} must be true or false, got '${env[name]}'`)
}

const badConfig = (message: string) => new GantryError('CONFIG_INVALID', message)

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const store = env.GANTRY_STORE || 'lowdb'
  if (store !== 'lowdb' && !/^postgres(ql)?:\/\//.test(store)) {
    throw badConfig(`GANTRY_STORE must be 'lowdb' or a postgres:// URL, got '${store}'`)
  }
  const durability = (env.GANTRY_DURABILITY || 'interval') as Config['durability']
  if (durability !== 'interval' && durability !== 'fsync') {
    throw badConfig(`GANTRY_DURABILITY must be 'interval' or 'fsync', got '${durability}'`)
  }
  const logLevel = (env.GANTRY_LOG_LEVEL || 'info') as Config['logLevel']
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw badConfig(`GANTRY_LOG_LEVEL must be debug, info, warn or error, got '${logLevel}'`)
  }
  return {
    port: integer(env, 'PORT', 3000, 0),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(cwd, env.GANTRY_DATA_DIR || './data'),
    abilitiesDir: resolve(cwd, env.GANTRY_ABILITIES_DIR || './abilities'),
    workflowsDir: resolve(cwd, env.GANTRY_WORKFLOWS_DIR || './workflows'),
    plugins: (env.GANTRY_PLUGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    jwtSecret: env.GANTRY_JWT_SECRET || undefined,
    jwtIssuer: env.GANTRY_JWT_ISSUER || undefined,
    jwtAudience: env.GANTRY_JWT_AUDIENCE || undefined,
    store,
    durability,
    pgPoolSize: integer(env, 'GANTRY_PG_POOL', 10),
    pgSchema: env.GANTRY_PG_SCHEMA || 'gantry',
    leaseMs: integer(env, 'GANTRY_LEASE_MS', 30_000, 300),
    claimPollMs: integer(env, 'GANTRY_CLAIM_POLL_MS', 1000, 10),
    maxWorkers: integer(env, 'GANTRY_MAX_WORKERS', availableParallelism()),
    callsPerWorker: integer(env, 'GANTRY_CALLS_PER_WORKER', 32),
    webhookSecret: env.GANTRY_WEBHOOK_SECRET || undefined,
    allowPrivateCallbacks: bool(env, 'GANTRY_ALLOW_PRIVATE_CALLBACKS'),
    bodyLimitBytes: integer(env, 'GANTRY_BODY_LIMIT', 10 * 1024 * 1024),
    shutdownGraceMs: duration(env, 'GANTRY_SHUTDOWN_GRACE', 10_000),
    lockWaitMs: duration(env, 'GANTRY_LOCK_WAIT', 10_000),
    queueTimeoutMs: duration(env, 'GANTRY_QUEUE_TIMEOUT', 10 * 60_000),
    retentionMs: duration(env, 'GANTRY_RETENTION', 7 * 24 * 3600_000),
    sweepTimeoutsCron: env.GANTRY_SWEEP_TIMEOUTS_CRON || '*/10 * * * * *',
    sweepRetentionCron: env.GANTRY_SWEEP_RETENTION_CRON || '0 */15 * * * *',
    mediaMaxBytes: integer(env, 'GANTRY_MEDIA_MAX_BYTES', 50 * 1024 * 1024),
    maxDefinitionBytes: integer(env, 'GANTRY_MAX_DEFINITION_BYTES', 1024 * 1024),
    callbackMaxAttempts: integer(env, 'GANTRY_CALLBACK_MAX_ATTEMPTS', 6),
    callbackBackoffMs: duration(env, 'GANTRY_CALLBACK_BACKOFF', 30_000),
    maxFanout: integer(env, 'GANTRY_MAX_FANOUT', 1000),
    logLevel,
  }
}
