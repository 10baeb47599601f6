/**
 * Large inline media in a task's payload (an `imageBase64`, a data: URL in
 * `images` or among the inputs) goes into the media store when the task is
 * accepted, and the payload keeps a signed `gantry-media:` reference
 * (input-refs.ts): the journal stays small, and a restart still has the bytes.
 * When the task runs, the references are turned back into base64 for the
 * provider; only references Gantry wrote for that task are.
 */
import { GantryError } from '../errors.js'
import type { AbilityInvokePayload } from '../model/call.js'
import type { MediaStore } from '../model/media-store.js'
import { createInputRefs, isMediaRef } from './input-refs.js'

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[^,]*)?;base64,/
/** Below this, inline base64 costs less than a file. */
const MIN_BYTES = 4096

function inline(value: unknown): { bytes: Buffer; mimeType: string; dataUrl: boolean } | undefined {
  if (typeof value !== 'string' || value.length < MIN_BYTES) return undefined
  const match = DATA_URL.exec(value)
  if (match)
    return {
      bytes: Buffer.from(value.slice(match[0].length), 'base64'),
      mimeType: match[1] ?? 'application/octet-stream',
      dataUrl: true,
    }
  if (/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(value.slice(0, 8192))) {
    return { bytes: Buffer.from(value, 'base64'), mimeType: 'application/octet-stream', dataUrl: false }
  }
  return undefined
}

async function mapPayload(
  payload: AbilityInvokePayload,
  fn: (value: unknown) => Promise<unknown>,
): Promise<AbilityInvokePayload> {
  const inputs: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(payload.inputs ?? {})) inputs[key] = await fn(value)
  return {
    ...payload,
    inputs,
    ...(payload.imageBase64 ? { imageBase64: String(await fn(payload.imageBase64)) } : {}),
    ...(payload.images
      ? { images: await Promise.all(payload.images.map(async (i) => String(await fn(i)))) }
      : {}),
  }
}

/** Whether a payload holds references to resolve before its call runs. */
export function hasMediaRefs(payload: AbilityInvokePayload): boolean {
  return (
    isMediaRef(payload.imageBase64) ||
    (payload.images ?? []).some(isMediaRef) ||
    Object.values(payload.inputs ?? {}).some(isMediaRef)
  )
}

/**
 * @example
 * const offload = createInputOffload({ store, secret })
 * task.payload = await offload.offload(task.id, task.payload) // at accept
 * const payload = await offload.restore(task.id, task.payload) // before the call runs
 */
export function createInputOffload(opts: { store: MediaStore; secret: string }) {
  const { store } = opts
  const refs = createInputRefs(opts.secret)

  async function offloadValue(taskId: string, value: unknown): Promise<unknown> {
    const found = inline(value)
    if (!found) return value
    const stored = await store.put(found.bytes, found.mimeType)
    // a data: URL comes back as one, plain base64 as plain base64
    return refs.write(taskId, found.dataUrl ? 'data' : 'b64', stored.key)
  }

  async function restoreValue(taskId: string, value: unknown): Promise<unknown> {
    if (!isMediaRef(value)) return value
    const { form, key } = refs.read(taskId, value)
    const media = await store.get(key)
    // the provider would get the reference instead of the picture: better the task fails and says why
    if (!media)
      throw new GantryError(
        'NOT_FOUND',
        `an input this task was accepted with (media ${key}) is no longer in the media store`,
      )
    const base64 = media.bytes.toString('base64')
    return form === 'data' ? `data:${media.mimeType};base64,${base64}` : base64
  }

  return {
    /** The payload with its large inline media stored and replaced by references signed for `taskId`. */
    offload: (taskId: string, payload: AbilityInvokePayload) =>
      mapPayload(payload, (v) => offloadValue(taskId, v)),
    /** The payload with the bytes back; throws for a reference not written for `taskId` (see input-refs.ts). */
    restore: (taskId: string, payload: AbilityInvokePayload) =>
      mapPayload(payload, (v) => restoreValue(taskId, v)),
  }
}

export type InputOffload = ReturnType<typeof createInputOffload>
