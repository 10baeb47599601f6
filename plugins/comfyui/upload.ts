/**
 * Input images: each `images` entry (`{ inputName: 'nodeId.inputs.image' }`)
 * is uploaded with `POST /upload/image` and its node input set to the name
 * ComfyUI gives back. The first entry falls back to the call's `imageBase64`.
 */
import { createHash } from 'node:crypto'
import type { InvokeContext } from '../../core/contract.js'
import { setInput, targetOf } from './bindings.js'
import { assertOk, jsonOf, request } from './client.js'
import { decodeImage, extensionOf, type ImageBytes } from './image-data.js'
import type { Connection } from './settings.js'
import type { ApiWorkflow } from './workflow.js'

interface UploadAnswer {
  name: string
  subfolder?: string
  type?: string
}

// named by content, so a retry overwrites the same file instead of piling up copies in ComfyUI's input folder
const fileNameOf = (image: ImageBytes) =>
  `gantry-${createHash('sha256').update(image.bytes).digest('hex').slice(0, 20)}.${extensionOf(image.mimeType)}`

async function uploadImage(conn: Connection, image: ImageBytes, signal: AbortSignal): Promise<string> {
  const form = new FormData()
  form.append('image', new Blob([image.bytes], { type: image.mimeType }), fileNameOf(image))
  form.append('type', 'input')
  form.append('overwrite', 'true')
  const answer = await request(conn, '/upload/image', { form, signal })
  assertOk(answer, 'POST /upload/image')
  const uploaded = jsonOf<UploadAnswer>(answer, 'POST /upload/image')
  // LoadImage takes `subfolder/name` for a file below the input folder
  return uploaded.subfolder ? `${uploaded.subfolder}/${uploaded.name}` : uploaded.name
}

export async function uploadInputImages(
  conn: Connection,
  workflow: ApiWorkflow,
  images: Record<string, string>,
  ctx: InvokeContext,
): Promise<void> {
  const entries = Object.entries(images)
  // every target is checked before the first upload, so a wrong node id costs no traffic
  const targets = entries.map(([input, spec]) => targetOf(workflow, spec, input))
  for (const [i, [input]] of entries.entries()) {
    const value = ctx.inputs[input] ?? (i === 0 ? ctx.media.imageBase64 : undefined)
    if (value === undefined) continue
    const name = await uploadImage(conn, decodeImage(value, input), ctx.signal)
    setInput(workflow, targets[i], name)
    ctx.log('uploaded input image', { input, name })
  }
}
