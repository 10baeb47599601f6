import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface DataSecrets {
  jwtSecret: string
  webhookSecret: string
}

/**
 * Secrets generated once into the data dir (mode 0600) for whatever the
 * environment does not set, so tokens stay valid across restarts.
 */
export function loadDataSecrets(dataDir: string): DataSecrets {
  const path = join(dataDir, 'secrets.json')
  let stored: Partial<DataSecrets> = {}
  try {
    stored = JSON.parse(readFileSync(path, 'utf8'))
  } catch {}
  const secrets: DataSecrets = {
    jwtSecret: stored.jwtSecret ?? randomBytes(32).toString('base64url'),
    webhookSecret: stored.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`,
  }
  if (secrets.jwtSecret !== stored.jwtSecret || secrets.webhookSecret !== stored.webhookSecret) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  }
  return secrets
}
