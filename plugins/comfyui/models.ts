/**
 * The models a ComfyUI offers, for the admin API's dropdowns: the choices of
 * the loader nodes' combo inputs, read from `GET /object_info/{class}` (one
 * small answer per loader rather than the whole catalogue, which runs to
 * megabytes with custom nodes installed).
 */
import { getJson } from './client.js'
import { type Connection, connectionOf } from './settings.js'

export interface ComfyModels {
  checkpoints: string[]
  loras: string[]
  vaes: string[]
}

type ObjectInfo = Record<string, { input?: { required?: Record<string, unknown[]> } }>

/** A combo's choices: `[[...names]]`, or `['COMBO', { options: [...] }]` in newer node schemas. */
function choicesOf(spec: unknown[] | undefined): string[] {
  const [first, second] = spec ?? []
  if (Array.isArray(first)) return first.map(String)
  const options = (second as { options?: unknown } | undefined)?.options
  return first === 'COMBO' && Array.isArray(options) ? options.map(String) : []
}

async function choices(conn: Connection, nodeClass: string, input: string): Promise<string[]> {
  const info = await getJson<ObjectInfo>(conn, `/object_info/${encodeURIComponent(nodeClass)}`)
  // a ComfyUI without that node answers {}
  return choicesOf(info[nodeClass]?.input?.required?.[input])
}

export async function models(config: Record<string, unknown>): Promise<ComfyModels> {
  const conn = connectionOf(config)
  const [checkpoints, loras, vaes] = await Promise.all([
    choices(conn, 'CheckpointLoaderSimple', 'ckpt_name'),
    choices(conn, 'LoraLoader', 'lora_name'),
    choices(conn, 'VAELoader', 'vae_name'),
  ])
  return { checkpoints, loras, vaes }
}
