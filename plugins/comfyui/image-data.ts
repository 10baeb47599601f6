/**
 * Image bytes in and out: decoding a caller's base64 or data URL, naming a
 * type from magic bytes, and reading a PNG's size from its header (what
 * SaveImage writes), so results carry width and height without an image library.
 */
import { ProviderError } from '../../core/contract.js'

export interface ImageBytes {
  bytes: Buffer
  mimeType: string
}

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
}

export function sniffMimeType(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 4).toString('hex') === '89504e47') return 'image/png'
  if (bytes.subarray(0, 3).toString('hex') === 'ffd8ff') return 'image/jpeg'
  if (bytes.subarray(0, 4).toString() === 'RIFF' && bytes.subarray(8, 12).toString() === 'WEBP')
    return 'image/webp'
  if (bytes.subarray(0, 4).toString() === 'GIF8') return 'image/gif'
  return undefined
}

export const extensionOf = (mimeType: string) => EXTENSIONS[mimeType] ?? 'png'

/** Decodes base64 or a data URL; URLs are refused, since fetching them from a worker would be an SSRF hole. */
export function decodeImage(value: unknown, input: string): ImageBytes {
  const invalid = (why: string) =>
    new ProviderError(`input '${input}' ${why}`, { code: 'VALIDATION_FAILED', retryable: false })
  if (typeof value !== 'string') throw invalid('must be a base64 string or a data URL')
  if (/^https?:\/\//i.test(value)) throw invalid('must be base64 or a data URL; image URLs are not fetched')
  const dataUrl = DATA_URL.exec(value)
  const payload = (dataUrl ? dataUrl[2] : value).replace(/\s+/g, '')
  if (!BASE64.test(payload)) throw invalid('is not valid base64')
  const bytes = Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64')
  const mimeType = sniffMimeType(bytes) ?? dataUrl?.[1]
  if (!mimeType?.startsWith('image/')) throw invalid('is not an image ComfyUI can load')
  return { bytes, mimeType }
}

/** Width and height of a PNG, from its IHDR chunk; undefined for other formats. */
export function pngSizeOf(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || sniffMimeType(bytes) !== 'image/png') return undefined
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

export const toDataUrl = (bytes: Buffer, mimeType: string) =>
  `data:${mimeType};base64,${bytes.toString('base64')}`
