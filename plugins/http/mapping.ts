/**
 * Reading a platform's answer into Gantry's normalized result through the
 * paths of a `response` mapping. Platforms name the same things many ways
 * (`image_url`, `imageUrl`, `url`, a bare string), so media items are
 * normalized to `{url, mimeType?, width?, height?}`.
 */
import { type MediaItem, ProviderError, type ProviderResult, type Usage } from '../../core/contract.js'
import type { ResponseMapping } from './config.js'
import { readPath } from './paths.js'

type MediaKind = 'image' | 'video' | 'asset'

const URL_KEYS: Record<MediaKind, string[]> = {
  image: ['image_url', 'imageUrl', 'url', 'uri', 'src'],
  video: ['video_url', 'videoUrl', 'url', 'uri', 'src'],
  asset: ['file_url', 'fileUrl', 'url', 'uri', 'src'],
}
const BASE64_KEYS = ['b64_json', 'base64', 'b64']
const DEFAULT_TYPE: Record<MediaKind, string> = {
  image: 'image/png',
  video: 'video/mp4',
  asset: 'application/octet-stream',
}

const NO_ERROR = new Set<unknown>([undefined, null, '', false, 0, '0'])

const listOf = (value: unknown): unknown[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]

const numberOf = (value: unknown): number | undefined => {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

const firstString = (item: Record<string, unknown>, keys: string[]): string | undefined => {
  for (const key of keys) if (typeof item[key] === 'string' && item[key]) return item[key] as string
  return undefined
}

/** One media item; undefined for an item with no url (nor base64 to make a data url from). */
export function toMediaItem(value: unknown, kind: MediaKind): MediaItem | undefined {
  if (typeof value === 'string') return value ? { url: value } : undefined
  if (!value || typeof value !== 'object') return undefined
  const item = value as Record<string, unknown>
  const mimeType = firstString(item, ['mimeType', 'mime_type', 'contentType', 'content_type'])
  let url = firstString(item, URL_KEYS[kind])
  if (!url) {
    const base64 = firstString(item, BASE64_KEYS)
    if (base64) url = `data:${mimeType ?? DEFAULT_TYPE[kind]};base64,${base64}`
  }
  if (!url) return undefined
  const media: MediaItem = { url }
  if (mimeType) media.mimeType = mimeType
  const width = numberOf(item.width)
  const height = numberOf(item.height)
  if (width !== undefined) media.width = width
  if (height !== undefined) media.height = height
  return media
}

function mediaAt(answer: unknown, path: string | undefined, kind: MediaKind): MediaItem[] | undefined {
  if (!path) return undefined
  return listOf(readPath(answer, path))
    .map((item) => toMediaItem(item, kind))
    .filter((item): item is MediaItem => item !== undefined)
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>
    if (typeof v.text === 'string') return v.text
    if (typeof v.content === 'string') return v.content
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function usageAt(answer: unknown, paths: Record<string, string> | undefined): Usage | undefined {
  if (!paths) return undefined
  const usage: Usage = {}
  for (const [unit, path] of Object.entries(paths)) {
    const n = numberOf(readPath(answer, path))
    if (n !== undefined) usage[unit] = n
  }
  return Object.keys(usage).length ? usage : undefined
}

/**
 * The result of a successful answer. `raw` is the answer as parsed, nothing
 * of the request (headers carry credentials). Without a mapping only `raw`.
 */
export function mapAnswer(answer: unknown, mapping: ResponseMapping | undefined): ProviderResult {
  if (mapping?.errorPath) {
    const error = readPath(answer, mapping.errorPath)
    // many platforms answer `code: 0` (or an empty message) on success
    if (!NO_ERROR.has(error)) {
      throw new ProviderError(`the platform refused the call: ${textOf(error).slice(0, 200)}`, {
        retryable: false,
      })
    }
  }
  const result: ProviderResult = { raw: answer }
  const images = mediaAt(answer, mapping?.images, 'image')
  const videos = mediaAt(answer, mapping?.videos, 'video')
  const assets = mediaAt(answer, mapping?.assets, 'asset')
  if (images) result.images = images
  if (videos) result.videos = videos
  if (assets) result.assets = assets
  if (mapping?.texts) result.texts = listOf(readPath(answer, mapping.texts)).map(textOf)
  const usage = usageAt(answer, mapping?.usage)
  if (usage) result.usage = usage
  return result
}
