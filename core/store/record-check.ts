/**
 * What a start needs of each stored record: a record without it (a hand edit, a
 * disk that flipped bits inside valid JSON) is set aside instead of stopping
 * every start with a TypeError. Both stores check with it.
 */
const REQUIRED: Record<string, [field: string, type: 'string' | 'number' | 'object' | 'boolean'][]> = {
  task: [
    ['id', 'string'],
    ['seq', 'number'],
    ['abilityId', 'string'],
    ['executorId', 'string'],
    ['userId', 'string'],
    ['status', 'string'],
    ['attempts', 'number'],
    ['payload', 'object'],
    ['createdAt', 'number'],
  ],
  job: [
    ['id', 'string'],
    ['seq', 'number'],
    ['workflowId', 'string'],
    ['userId', 'string'],
    ['status', 'string'],
    ['plan', 'object'],
    ['steps', 'object'],
    ['createdAt', 'number'],
  ],
  ledger: [
    ['id', 'string'],
    ['userId', 'string'],
    ['kind', 'string'],
    ['points', 'number'],
    ['createdAt', 'number'],
  ],
  cb: [
    ['id', 'string'],
    ['url', 'string'],
    ['userId', 'string'],
    ['status', 'string'],
    ['attempts', 'number'],
    ['nextAttemptAt', 'number'],
  ],
  idem: [
    ['scope', 'string'],
    ['fingerprint', 'string'],
    ['createdAt', 'number'],
  ],
}

const TASK_STATUSES = new Set(['queued', 'running', 'succeeded', 'failed', 'canceled'])
const JOB_STATUSES = new Set(['pending', 'running', 'completed', 'failed', 'canceled'])
const LEDGER_KINDS = new Set(['grant', 'adjust', 'hold', 'commit', 'release'])

/** Why a stored record of `collection` cannot be used, or undefined when it can. */
export function unusableBecause(collection: string, record: unknown): string | undefined {
  const required = REQUIRED[collection]
  if (!required) return undefined // a collection this version does not know: left alone, as before
  const v = record as Record<string, unknown>
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the record is not an object'
  const missing = required.filter(([field, type]) => {
    const value = v[field]
    if (type === 'object') return typeof value !== 'object' || value === null
    if (type === 'number') return typeof value !== 'number' || !Number.isFinite(value)
    return typeof value !== type
  })
  if (missing.length) return `missing or malformed: ${missing.map(([f]) => f).join(', ')}`
  if (collection === 'task' && !TASK_STATUSES.has(v.status as string)) return `unknown status ${v.status}`
  if (collection === 'job' && !JOB_STATUSES.has(v.status as string)) return `unknown status ${v.status}`
  if (collection === 'ledger' && !LEDGER_KINDS.has(v.kind as string)) return `unknown kind ${v.kind}`
  return undefined
}
