/**
 * What a client event carries: a summary of the task or job and a link to the
 * whole of it, never its inputs, result or raw response. Events are kept for
 * an hour, replayed to every stream that asks and formatted once each, so one
 * large task must not make every event, window and replay large.
 */
import type { GantryEvents } from '../events/types.js'
import type { NotifyEvent } from '../model/notify-event.js'
import type { AbilityTask } from '../model/task.js'

/** An error message is cut to this many characters; the whole one is on the task. */
export const MAX_MESSAGE_CHARS = 1000

type Progress = GantryEvents['ability-task.progress']
type JobStatus = GantryEvents['workflow-job.status']

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
const taskHref = (id: string) => `/api/ability-tasks/${encodeURIComponent(id)}`
const jobHref = (id: string) => `/api/workflow-jobs/${encodeURIComponent(id)}`

function clip(message: unknown): string | null {
  if (typeof message !== 'string') return null
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message
}

/** `ability-task.status` for a status change. `id` and `taskId` are the same (the seed format names `taskId`). */
export function taskSummary(task: AbilityTask, at: number) {
  return {
    id: task.id,
    taskId: task.id,
    abilityId: task.abilityId,
    executorId: task.executorId,
    userId: task.userId,
    status: task.status,
    progress: task.progress,
    stage: task.stage ?? null,
    eta: task.eta ?? null,
    attempts: task.attempts,
    logId: task.logId ?? null,
    errorCode: task.errorCode ?? null,
    errorMessage: clip(task.errorMessage),
    createdAt: iso(task.createdAt),
    startedAt: iso(task.startedAt),
    finishedAt: iso(task.finishedAt),
    updatedAt: iso(at),
    href: taskHref(task.id),
  }
}

export type TaskSummary = ReturnType<typeof taskSummary>

/** `ability-task.status` for a progress report of a running task. */
export function progressSummary(p: Progress, at: number) {
  return {
    id: p.taskId,
    taskId: p.taskId,
    abilityId: p.abilityId,
    executorId: p.executorId,
    userId: p.userId,
    status: 'running' as const,
    progress: p.percent,
    stage: p.stage ?? null,
    eta: p.eta ?? null,
    attempts: p.attempts,
    logId: p.logId ?? null,
    updatedAt: iso(at),
    href: taskHref(p.taskId),
  }
}

/** `workflow-job.status`: status, progress and each step's status; outputs and params are on the job. */
export function jobSummary(p: JobStatus, at: number) {
  const job = (p.job ?? {}) as {
    workflowId?: unknown
    projectId?: unknown
    steps?: { id: string; status: string }[]
    error?: { code?: unknown; message?: unknown } | null
  }
  return {
    id: p.jobId,
    jobId: p.jobId,
    workflowId: job.workflowId ?? null,
    projectId: job.projectId ?? null,
    userId: p.userId,
    status: p.status,
    progress: p.progress,
    steps: Array.isArray(job.steps) ? job.steps.map((s) => ({ id: s.id, status: s.status })) : [],
    error: job.error ? { code: job.error.code ?? null, message: clip(job.error.message) } : null,
    updatedAt: iso(at),
    href: jobHref(p.jobId),
  }
}

const TASK_FIELDS = [
  'id',
  'abilityId',
  'executorId',
  'userId',
  'status',
  'progress',
  'stage',
  'eta',
  'attempts',
  'logId',
  'errorCode',
  'createdAt',
  'startedAt',
  'finishedAt',
] as const

/**
 * An event read back from a replay log an earlier version wrote, when status
 * events held the whole task or job: cut to its summary, so a restart does not
 * bring every input and result back into memory.
 */
export function shrinkStored(e: NotifyEvent): NotifyEvent {
  const p = e.payload as Record<string, unknown> | null
  if (typeof p !== 'object' || p === null || typeof p.href === 'string') return e
  if (e.type === 'ability-task.status' && typeof p.id === 'string') {
    const summary: Record<string, unknown> = { taskId: p.id }
    for (const field of TASK_FIELDS) if (field in p) summary[field] = p[field] ?? null
    if ('errorMessage' in p) summary.errorMessage = clip(p.errorMessage)
    summary.updatedAt = iso(e.at)
    summary.href = taskHref(p.id)
    return { ...e, payload: summary }
  }
  if (e.type === 'workflow-job.status' && typeof p.id === 'string') {
    const payload = jobSummary(
      { jobId: p.id, userId: e.userId, status: String(p.status), progress: Number(p.progress) || 0, job: p },
      e.at,
    )
    return { ...e, payload }
  }
  return e
}
