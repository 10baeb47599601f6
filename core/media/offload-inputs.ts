/**
 * Large inline media in a task's payload (an `imageBase64`, a data: URL in
 * `images` or among the inputs) goes into the media store when the task is
 * accepted, and the payload keeps a `gantry-media:<key>` reference: the
 * journal stays small, and a restart still has the bytes. When the task runs,
 * the references are turned back into base64 for the provider.
 */
import { GantryError } from '../errors.js'
import type { AbilityInvokePayload } from '../run/types.js'
import type { MediaStore } from './media-store.js'

const REF = 'gantry-media:'
const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[^,]*)?;base64,/
/** Below this, inline base64 costs less than a file. */
const MIN_BYTES = 4096

const isRef = (v: unknown): v is string => typeof v === 'string' && v.startsWith(REF)

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

async function offload(value: unknown, store: MediaStore): Promise<unknown> {
  const found = inline(value)
  if (!found) return value
  const stored = await store.put(found.bytes, found.mimeType)
  // a data: URL comes back as one, plain base64 as plain base64
  return `${REF}${found.dataUrl ? 'data' : 'b64'}:${stored.key}`
}

async function restore(value: unknown, store: MediaStore): Promise<unknown> {
  if (!isRef(value)) return value
  const [form, key] = value.slice(REF.length).split(':')
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

export const offloadPayload = (payload: AbilityInvokePayload, store: MediaStore) =>
  mapPayload(payload, (v) => offload(v, store))

/** Whether a payload holds references to resolve before its call runs. */
export function hasMediaRefs(payload: AbilityInvokePayload): boolean {
  return (
    isRef(payload.imageBase64) ||
    (payload.images ?? []).some(isRef) ||
    Object.values(payload.inputs ?? {}).some(isRef)
  )
}

export const restorePayload = (payload: AbilityInvokePayload, store: MediaStore) =>
  mapPayload(payload, (v) => restore(v, store))
