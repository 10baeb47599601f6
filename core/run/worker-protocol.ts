/**
 * What the main thread and the pool's workers say to each other. Calls go
 * through piscina; progress, logs and aborts travel on two broadcast
 * channels, so a call needs no channel of its own.
 */
import type { PollStatus, ProviderResult } from '../contract.js'

/** Workers post here; the main thread listens. */
export const UP_CHANNEL = 'gantry:worker-up'
/** The main thread posts here; workers listen. */
export const DOWN_CHANNEL = 'gantry:worker-down'

export type CallOp = 'invoke' | 'submit' | 'poll' | 'cancel'

export interface WorkerCall {
  callId: string
  op: CallOp
  /** URL of the module that exports the provider. */
  moduleUrl: string
  provider: string
  inputs: Record<string, unknown>
  config: Record<string, unknown>
  media: { imageUrl?: string; imageBase64?: string; images?: string[] }
  attempt: number
  externalId?: string
  /** Where to record the thread running this call (see CallSlots); -1: untracked. */
  slot: number
}

export interface WorkerFailure {
  code: string
  message: string
  retryable: boolean
  details?: unknown
}

export type WorkerReply =
  | { ok: true; result?: ProviderResult; externalId?: string; poll?: PollStatus; raw?: unknown }
  | { ok: false; error: WorkerFailure }

export type UpMessage =
  | { type: 'progress'; callId: string; percent: number; stage?: string; eta?: number }
  | { type: 'log'; callId: string; message: string; fields?: Record<string, unknown> }

export type DownMessage = { type: 'abort'; callId: string; reason: string }
