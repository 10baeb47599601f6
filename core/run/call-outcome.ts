import { randomUUID } from 'node:crypto'
import type { MediaItem, ProviderResult } from '../contract.js'
import { finalPrice } from '../ledger/pricing.js'
import type { AbilityInvokeResponse } from '../model/call.js'
import type { InvocationLog } from '../model/invocation-log.js'
import type { PreparedCall } from './prepare-call.js'
import { maskSecrets, summarizeForLog } from './redact.js'
import type { WorkerFailure, WorkerReply } from './worker-protocol.js'

/** The invocation log of one attempt: request summarized, raw and error masked. */
export function buildLog(
  call: PreparedCall,
  userId: string,
  taskId: string | undefined,
  reply: WorkerReply,
  attempt: number,
  durationMs: number,
): InvocationLog {
  const failure: WorkerFailure | undefined = reply.ok ? undefined : reply.error
  const { imageUrl, imageBase64, images, metadata, executorId } = call.payload
  const final = reply.ok ? finalPrice(call.ability.pricing, call.estimate, reply.result?.usage) : undefined
  return {
    logId: randomUUID(),
    abilityId: call.ability.id,
    executorId: call.executor.id,
    userId,
    taskId,
    attempt,
    status: reply.ok ? 'succeeded' : 'failed',
    durationMs,
    cost: { points: final?.points ?? 0 },
    ...(final?.usageRefused ? { usageRefused: final.usageRefused } : {}),
    request: summarizeForLog(
      { inputs: call.inputs, imageUrl, imageBase64, images, metadata, executorId },
      call.secrets,
    ),
    raw: reply.ok ? summarizeForLog(reply.result?.raw, call.secrets) : undefined,
    errorCode: failure?.code,
    errorDetail: failure ? String(maskSecrets(failure.message, call.secrets)) : undefined,
    createdAt: new Date().toISOString(),
  }
}

/** The final price of a successful call: the estimate plus usage-based rules on what the provider reported. */
export function priceOf(call: PreparedCall, reply: WorkerReply): number {
  if (!reply.ok) return 0
  return finalPrice(call.ability.pricing, call.estimate, reply.result?.usage).points
}

const media = (items: unknown): MediaItem[] => (Array.isArray(items) ? (items as MediaItem[]) : [])

/** The `AbilityInvokeResponse` of a finished call. */
export function toResponse(
  call: PreparedCall,
  reply: WorkerReply,
  logId: string,
  attempts: number,
  durationMs: number,
  taskId?: string,
  /** What the wallet was charged; by default the price. */
  charged?: number,
): AbilityInvokeResponse {
  const result: ProviderResult = reply.ok ? (reply.result ?? {}) : {}
  const response: AbilityInvokeResponse = {
    status: reply.ok ? 'succeeded' : 'failed',
    logId,
    ...(taskId ? { taskId } : {}),
    durationMs: Math.round(durationMs),
    attempts,
    images: media(result.images),
    videos: media(result.videos),
    texts: Array.isArray(result.texts) ? result.texts.map(String) : [],
    assets: media(result.assets),
    cost: { points: charged ?? (reply.ok ? priceOf(call, reply) : 0) },
    raw: maskSecrets(result.raw, call.secrets),
    ...(call.payload.metadata ? { metadata: call.payload.metadata } : {}),
  }
  if (!reply.ok) {
    response.error = {
      code: reply.error.code,
      message: String(maskSecrets(reply.error.message, call.secrets)),
    }
  }
  return response
}
