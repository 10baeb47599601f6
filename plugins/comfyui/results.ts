/**
 * A successful prompt's result: the images of the output nodes, each fetched
 * with `GET /view` and returned as a data URL (ComfyUI's own URLs point at a
 * server clients may not reach). `raw` keeps file names only, never bytes.
 */
import type { MediaItem, ProviderResult } from '../../core/contract.js'
import { assertOk, request } from './client.js'
import type { HistoryEntry, OutputImage } from './history.js'
import { runSecondsOf } from './history.js'
import { pngSizeOf, sniffMimeType, toDataUrl } from './image-data.js'
import type { Connection } from './settings.js'
import { type ApiWorkflow, outputNodesOf } from './workflow.js'

const BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
}

function mimeTypeOf(bytes: Buffer, contentType: string, filename: string): string {
  const declared = contentType.split(';')[0].trim()
  const byName = BY_EXTENSION[filename.split('.').pop()?.toLowerCase() ?? '']
  return sniffMimeType(bytes) ?? (declared.startsWith('image/') ? declared : (byName ?? 'image/png'))
}

async function fetchImage(conn: Connection, image: OutputImage, signal: AbortSignal): Promise<MediaItem> {
  const query = new URLSearchParams({
    filename: image.filename,
    subfolder: image.subfolder ?? '',
    type: image.type ?? 'output',
  })
  const answer = await request(conn, `/view?${query}`, { signal })
  assertOk(answer, `GET /view for ${image.filename}`)
  const mimeType = mimeTypeOf(answer.body, answer.contentType, image.filename)
  return { url: toDataUrl(answer.body, mimeType), mimeType, ...pngSizeOf(answer.body) }
}

/** The images to return: from the chosen output nodes, or, when the workflow has none, every saved image. */
function imagesToCollect(entry: HistoryEntry, configured?: string[]): OutputImage[] {
  const outputs = entry.outputs ?? {}
  const workflow = (entry.prompt?.[2] ?? {}) as ApiWorkflow
  const nodes = outputNodesOf(workflow, configured)
  if (nodes.length) return nodes.flatMap((id) => outputs[id]?.images ?? [])
  return Object.values(outputs).flatMap((o) => (o.images ?? []).filter((i) => i.type === 'output'))
}

export async function resultOf(
  conn: Connection,
  promptId: string,
  entry: HistoryEntry,
  configured: string[] | undefined,
  signal: AbortSignal,
): Promise<ProviderResult> {
  const images: MediaItem[] = []
  // one at a time: these are full-size images, and ComfyUI serves them from one process
  for (const image of imagesToCollect(entry, configured)) images.push(await fetchImage(conn, image, signal))
  const names = Object.fromEntries(
    Object.entries(entry.outputs ?? {}).map(([id, o]) => [id, (o.images ?? []).map((i) => i.filename)]),
  )
  const seconds = runSecondsOf(entry)
  return {
    images,
    raw: { prompt_id: promptId, outputs: names },
    usage: { images: images.length, ...(seconds === undefined ? {} : { seconds }) },
  }
}
