/** What a workflow job is made of and how it reads: its plan, template scope, progress, summary. */
import { newDelivery } from '../callbacks/new-delivery.js'
import type { WorkflowDef } from '../definitions/types.js'
import type { CallbackDelivery } from '../model/callback.js'
import { JOB_ENDED, type JobPlan, STEP_SETTLED, type StepState, type WorkflowJob } from '../model/job.js'
import type { AbilityTask } from '../model/task.js'
import { parseModelJson } from './json-repair.js'
import type { TemplateScope } from './template.js'

type PlannedStep = JobPlan['steps'][number]

export function planOf(def: WorkflowDef): JobPlan {
  return {
    steps: def.steps.map((s, i) => ({
      id: s.id,
      ability: s.ability,
      with: s.with ?? {},
      needs: s.needs ?? (i === 0 ? [] : [def.steps[i - 1].id]),
      ...(s.if !== undefined ? { if: s.if } : {}),
      ...(s.forEach !== undefined ? { forEach: s.forEach } : {}),
      ...(s.maxItems !== undefined ? { maxItems: s.maxItems } : {}),
      ...(s.retry ? { retry: s.retry } : {}),
      ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}),
      continueOnError: s.continueOnError,
      ...(s.parse ? { parse: s.parse } : {}),
      weight: s.weight ?? 1,
    })),
    ...(def.output ? { output: def.output } : {}),
  }
}

/** What templates read: `outputs` are the steps' outputs the template needs, read from their tasks. */
export function scopeOf(
  job: WorkflowJob,
  outputs: Record<string, unknown> = {},
  extra: Partial<TemplateScope> = {},
): TemplateScope {
  const steps: TemplateScope['steps'] = {}
  for (const [id, state] of Object.entries(job.steps))
    steps[id] = { output: outputs[id], status: state.status }
  return {
    params: job.params,
    job: { id: job.id, projectId: job.projectId, userId: job.userId },
    steps,
    ...extra,
  }
}

/** What clients need to follow a job; the whole job is on GET /api/workflow-jobs/:id. */
export function summaryOf(job: WorkflowJob) {
  return {
    id: job.id,
    workflowId: job.workflowId,
    projectId: job.projectId ?? null,
    status: job.status,
    progress: job.progress,
    steps: job.plan.steps.map((s) => ({ id: s.id, status: job.steps[s.id].status })),
    error: job.error ?? null,
    ...(JOB_ENDED.has(job.status) ? { output: job.output ?? null } : {}),
  }
}

/**
 * Status, progress and each step's status, all a job's summary shows: a change to
 * any of them is announced and stored. An item that ends without moving the
 * percent changes neither: its state is in its task, read again by the next advance.
 */
export function signatureOf(job: WorkflowJob): string {
  let signature = `${job.status}:${job.progress}`
  for (const s of job.plan.steps) signature += `|${job.steps[s.id].status}`
  return signature
}

/** A step that failed (or was canceled) without `continueOnError`: the job cannot complete. */
export function blockingFailure(job: WorkflowJob): [string, StepState] | undefined {
  return Object.entries(job.steps).find(
    ([id, s]) =>
      (s.status === 'failed' || s.status === 'canceled') &&
      !job.plan.steps.find((p) => p.id === id)!.continueOnError,
  )
}

/** `parse: json`: the first text of the result, parsed (and repaired) into `json`. */
export function parseOutput(
  step: PlannedStep,
  task: AbilityTask,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const result = task.resultPayload
  if (step.parse !== 'json') return { ok: true, value: result }
  const text = result?.texts?.[0] ?? ''
  const parsed = parseModelJson(text)
  if (!parsed.ok)
    return { ok: false, message: `step '${step.id}': the model's answer is not JSON: ${parsed.message}` }
  return { ok: true, value: { ...result, json: parsed.value } }
}

export function progressOf(job: WorkflowJob): number {
  if (job.status === 'completed') return 100
  let total = 0
  let done = 0
  for (const step of job.plan.steps) {
    const state = job.steps[step.id]
    total += step.weight
    if (STEP_SETTLED.has(state.status)) done += step.weight
    else if (state.status === 'running' && state.items.length) {
      const ended = state.items.length - count(state.items, '-')
      done += (step.weight * ended) / state.items.length
    }
  }
  return total ? Math.round((done / total) * 100) : 0
}

export function callbackFor(job: WorkflowJob): CallbackDelivery {
  return newDelivery({
    url: job.callbackUrl!,
    headers: job.callbackHeaders,
    userId: job.userId,
    jobId: job.id,
    status: job.status,
    result: job.status === 'completed' ? (job.output ?? null) : null,
    error: job.error ?? null,
    logId: null,
  })
}

function count(items: string, c: string): number {
  let n = 0
  for (const item of items) if (item === c) n++
  return n
}
