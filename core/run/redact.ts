/**
 * What reaches logs, raw responses and events is masked: values under
 * secret-looking keys, and any known secret string wherever it appears.
 */

// a key that ends in one of these words (`apiKey`, `x-api-key`, `accessToken`), but not `maxTokens`
const SECRET_KEY =
  /(?:api[-_]?key|token|secret|password|passwd|authorization|cookie|credentials?|signature|private[-_]?key)$/i
const MASK = '***'
const BASE64 = /^(?:data:[\w/+.-]+;base64,)?[A-Za-z0-9+/\r\n]+={0,2}$/
const MAX_STRING = 2000

/** The secret strings of a config: values under secret-looking keys, at any depth. */
export function secretsOf(config: unknown, found: string[] = []): string[] {
  if (Array.isArray(config)) for (const v of config) secretsOf(v, found)
  else if (config && typeof config === 'object') {
    for (const [key, value] of Object.entries(config)) {
      if (SECRET_KEY.test(key) && typeof value === 'string' && value.length >= 4) found.push(value)
      else secretsOf(value, found)
    }
  }
  return found
}

/** A deep copy with secrets masked. */
export function maskSecrets(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (depth > 32) return '[too deep]'
  if (typeof value === 'string') return maskKnown(value, secrets)
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, secrets, depth + 1))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && v !== null && v !== '' ? MASK : maskSecrets(v, secrets, depth + 1)
    }
    return out
  }
  return value
}

function maskKnown(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK)
  return out
}

/** For logs: long strings truncated, base64 replaced by a placeholder with its length, secrets masked. */
export function summarizeForLog(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (depth > 32) return '[too deep]'
  if (typeof value === 'string') {
    if (value.length > 256 && BASE64.test(value.slice(0, 4096))) return `<base64 ${value.length} chars>`
    const masked = maskKnown(value, secrets)
    return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING)}... (${masked.length} chars)` : masked
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, 100).map((v) => summarizeForLog(v, secrets, depth + 1))
    return value.length > 100 ? [...items, `... ${value.length - 100} more`] : items
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      out[key] =
        SECRET_KEY.test(key) && v !== null && v !== '' ? MASK : summarizeForLog(v, secrets, depth + 1)
    }
    return out
  }
  return value
}
