/**
 * The `gantry` command: `serve`, `validate [DIR...]`, `token --sub ID --role user|admin`.
 */
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { signToken } from '../auth/jwt.js'
import { resolveSecrets } from '../auth/secrets.js'
import { loadConfig } from '../config.js'
import { formatDefinitionError, validateDirs } from '../definitions/validate.js'
import { coerceError } from '../errors.js'
import { createGantry } from '../gantry.js'
import { createLogger } from '../logger.js'
import { loadProviders } from '../run/providers.js'
import { openStore } from '../store/open-store.js'

const USAGE = `usage: gantry <command>
  serve                               start the server (PORT, HOST, GANTRY_* from the environment)
  validate [DIR...]                   check YAML definitions offline; exit 1 on any error
  sweep                               run the sweeps once (queue timeouts, retention) on a stopped server's data dir;
                                      on a running server use POST /api/admin/sweep
  migrate                             apply the PostgreSQL store's migrations (GANTRY_STORE=postgres://...)
  ledger verify                       recompute every wallet from its ledger entries; exit 1 on any difference
  token --sub ID [--role user|admin] [--ttl SECONDS]
                                      print a bearer token signed with the configured secret`

async function serve() {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const gantry = await createGantry(config, log)
  await gantry.start()
  if (gantry.devAdminToken) {
    log('info', 'dev admin token (the JWT secret was generated into the data dir):')
    process.stderr.write(`\n  ${gantry.devAdminToken}\n\n`)
  }
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log('info', `${signal}: shutting down`)
    await gantry.stop()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

async function sweep() {
  const config = loadConfig()
  const gantry = await createGantry(config, createLogger(config.logLevel))
  try {
    const report = await gantry.sweeper.runAll()
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } finally {
    await gantry.stop()
  }
}

async function migrate() {
  const config = loadConfig()
  if (config.store === 'lowdb') {
    process.stderr.write('GANTRY_STORE is lowdb: the embedded store has no migrations\n')
    return
  }
  const { createPostgresStore } = await import('../store/postgres/index.js')
  const store = createPostgresStore(config.store, { poolSize: 2, schema: config.pgSchema })
  try {
    await store.migrate()
    process.stderr.write('migrations applied\n')
  } finally {
    await store.close()
  }
}

async function ledger(args: string[]) {
  if (args[0] !== 'verify') throw new Error(`unknown ledger command '${args[0] ?? ''}' (try: ledger verify)`)
  const config = loadConfig()
  const store = await openStore(config)
  try {
    const differences = await store.ledger.verify()
    for (const d of differences) {
      process.stdout.write(
        `${d.userId}: recorded balance ${d.cached.balance} frozen ${d.cached.frozen}, entries add up to balance ${d.recomputed.balance} frozen ${d.recomputed.frozen}${d.entryId ? ` (first at entry ${d.entryId})` : ''}\n`,
      )
    }
    if (differences.length) process.exitCode = 1
    else process.stderr.write('every wallet matches its ledger\n')
  } finally {
    await store.close()
  }
}

async function validate(dirs: string[]) {
  const config = loadConfig()
  const providers = await loadProviders(config.plugins)
  // the default folders may be absent (a repo without workflows); folders named on the command line must exist
  const targets = dirs.length ? dirs : [config.abilitiesDir, config.workflowsDir].filter((d) => existsSync(d))
  const errors = await validateDirs(targets, providers.infos(), process.env, config.maxDefinitionBytes)
  for (const e of errors) process.stdout.write(`${formatDefinitionError(e)}\n`)
  if (errors.length) {
    process.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}\n`)
    process.exit(1)
  }
  process.stderr.write('definitions are valid\n')
}

/** The secret the servers sign with: the data dir's, or on PostgreSQL the one the cluster shares. */
async function servingJwtSecret(config: ReturnType<typeof loadConfig>): Promise<string> {
  // the embedded store is not opened: a running server owns it, and its secret is a file anyway
  if (config.store === 'lowdb') return (await resolveSecrets(config)).jwtSecret
  const store = await openStore(config)
  try {
    return (await resolveSecrets(config, store.cluster)).jwtSecret
  } finally {
    await store.close()
  }
}

async function token(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string' },
      role: { type: 'string', default: 'user' },
      ttl: { type: 'string', default: '3600' },
    },
  })
  if (!values.sub) throw new Error('token needs --sub ID')
  if (values.role !== 'user' && values.role !== 'admin') throw new Error('--role must be user or admin')
  const ttlSeconds = Number(values.ttl)
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)
    throw new Error('--ttl must be a whole number of seconds')
  const config = loadConfig()
  const secret = config.jwtSecret ?? (await servingJwtSecret(config))
  const jwt = { secret, issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds }
  process.stdout.write(`${signToken({ sub: values.sub, role: values.role }, jwt)}\n`)
}

async function main(argv: string[]) {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
    case undefined:
      return serve()
    case 'validate':
      return validate(rest)
    case 'token':
      return token(rest)
    case 'sweep':
      return sweep()
    case 'ledger':
      return ledger(rest)
    case 'migrate':
      return migrate()
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`)
      return
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}\n`)
      process.exit(2)
  }
}

main(process.argv.slice(2)).catch((err) => {
  const e = coerceError(err)
  process.stderr.write(`gantry: ${e.code === 'INTERNAL' ? '' : `${e.code}: `}${e.message}\n`)
  process.exit(1)
})
