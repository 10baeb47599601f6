/**
 * Reading a poll answer into Gantry's `PollStatus`: the platform's status
 * word through `statusMap`, progress normalized to 0-100, the result mapped
 * once the job succeeded.
 */
import type { PollStatus } from '../../core/contract.js'
import type { ResponseMapping, StatusList, SubmitPollSpec } from './config.js'
import { mapAnswer } from './mapping.js'
import { readPath } from './paths.js'

type Outcome = 'running' | 'succeeded' | 'failed'

/** Words platforms commonly use; a list in `statusMap` replaces the default of its outcome. */
const DEFAULT_STATUSES: Record<Outcome, string[]> = {
  running: ['queued', 'pending', 'waiting', 'submitted', 'created', 'processing', 'running', 'in_progress'],
  succeeded: ['succeeded', 'success', 'successful', 'done', 'completed', 'complete', 'finished'],
  failed: ['failed', 'failure', 'error', 'canceled', 'cancelled', 'timeout', 'rejected'],
}

const words = (list: StatusList | undefined): string[] | undefined =>
  list === undefined ? undefined : (Array.isArray(list) ? list : [list]).map((w) => String(w).toLowerCase())

function outcomeOf(status: unknown, spec: SubmitPollSpec): Outcome | undefined {
  const word = String(status ?? '').toLowerCase()
  for (const outcome of ['succeeded', 'failed', 'running'] as const) {
    if ((words(spec.statusMap?.[outcome]) ?? DEFAULT_STATUSES[outcome]).includes(word)) return outcome
  }
  return undefined
}

/** 0-1 fractions and 0-100 percents (also `"45%"`) both come out as 0-100; exactly 1 is read as done. */
export function percentOf(value: unknown): number | undefined {
  const text = typeof value === 'string' ? value.trim() : undefined
  const n = text !== undefined ? Number(text.replace(/%$/, '')) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || text === '') return undefined
  const percent = n <= 1 && !text?.endsWith('%') ? n * 100 : n
  return Math.min(100, Math.max(0, Math.round(percent * 10) / 10))
}

const numberAt = (answer: unknown, path: string | undefined) => {
  const value = path ? readPath(answer, path) : undefined
  const n =
    typeof value === 'number' || (typeof value === 'string' && value.trim()) ? Number(value) : Number.NaN
  return Number.isFinite(n) ? n : undefined
}

const stringAt = (answer: unknown, path: string | undefined) => {
  const value = path ? readPath(answer, path) : undefined
  if (value === undefined || value === null || value === '') return undefined
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/**
 * The job's state from one poll answer. A status word no list knows counts
 * as running (and is logged): the job goes on until the ability's
 * `poll.maxDuration`, when Gantry cancels it.
 */
export function readJobStatus(
  answer: unknown,
  spec: SubmitPollSpec,
  fallback: ResponseMapping | undefined,
  externalId: string,
  log: (message: string) => void,
): PollStatus {
  const status = readPath(answer, spec.statusPath)
  const outcome = outcomeOf(status, spec)
  if (outcome === 'succeeded')
    return { status: 'succeeded', result: mapAnswer(answer, spec.result ?? fallback) }
  if (outcome === 'failed') {
    const reason = stringAt(answer, spec.errorPath)?.slice(0, 500)
    return {
      status: 'failed',
      message: `job ${externalId} ended '${String(status)}'${reason ? `: ${reason}` : ''}`,
    }
  }
  if (!outcome)
    log(`job ${externalId}: unknown status '${String(status)}' at '${spec.statusPath}', taken as running`)
  const running: Extract<PollStatus, { status: 'running' }> = { status: 'running' }
  const progress = percentOf(spec.progressPath ? readPath(answer, spec.progressPath) : undefined)
  const stage = stringAt(answer, spec.stagePath)
  const eta = numberAt(answer, spec.etaPath)
  if (progress !== undefined) running.progress = progress
  if (stage !== undefined) running.stage = stage
  if (eta !== undefined) running.eta = eta
  return running
}
