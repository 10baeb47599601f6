/** Every event on the bus, by type. Names are `noun.verb` or the client-facing `noun-noun.status`. */
import type { AbilityTask } from '../model/task.js'

export type GantryEvents = {
  /** A task changed status (queued, running, a retry queued, an end). */
  'ability-task.status': { task: AbilityTask }
  /** A running task's progress; it names the task's ability, executor and attempt, as every client event does. */
  'ability-task.progress': {
    taskId: string
    userId: string
    abilityId: string
    executorId: string
    attempts: number
    logId?: string
    percent: number
    stage?: string
    eta?: number
  }
  'task.queued': { taskId: string; abilityId: string; userId: string }
  /** A wallet moved: a hold frozen, committed or released, a grant or an adjustment. */
  'wallet.points': {
    userId: string
    taskId?: string
    status: 'frozen' | 'committed' | 'released' | 'granted' | 'adjusted'
    points: number
    balance: number
    available: number
  }
  /** A workflow job changed status or progress (the workflow engine emits it). */
  'workflow-job.status': { jobId: string; userId: string; status: string; progress: number; job: unknown }
  'definitions.reloaded': {
    version: number
    abilities: number
    executors: number
    workflows: number
    errors: number
  }
  'call.started': {
    callId: string
    abilityId: string
    executorId: string
    userId: string
    attempt: number
    taskId?: string
  }
  'call.progress': {
    callId: string
    abilityId: string
    userId: string
    taskId?: string
    percent: number
    stage?: string
    eta?: number
  }
  'call.finished': {
    callId: string
    abilityId: string
    executorId: string
    userId: string
    attempt: number
    taskId?: string
    status: 'succeeded' | 'failed'
    durationMs: number
    errorCode?: string
  }
  'ability-log.created': {
    logId: string
    abilityId: string
    executorId: string
    userId: string
    status: string
    durationMs: number
    errorCode?: string
    createdAt: string
  }
}

export type EventType = keyof GantryEvents
