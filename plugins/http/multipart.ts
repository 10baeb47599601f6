/**
 * A `multipart/form-data` body from rendered fields. A string that is a data
 * url, `base64:...` or an http(s) url becomes a file part (the url is
 * downloaded first); anything else is a text part. `{file, filename?,
 * contentType?}` and `{text}` say which explicitly.
 */
import { FormData } from 'undici'
import { type InvokeContext, ProviderError } from '../../core/contract.js'
import type { HttpConfig } from './config.js'
import { downloadFile } from './file-download.js'

interface FilePart {
  bytes: Uint8Array
  type: string
  filename: string
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w-]+=[^;,]*)*);base64,/i
const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'audio/mpeg': '.mp3',
  'audio/wav': '.wav',
}

const looksLikeFile = (value: string) =>
  DATA_URL.test(value) || value.startsWith('base64:') || /^https?:\/\//i.test(value)

export async function buildMultipart(fields: Record<string, unknown>, ctx: InvokeContext): Promise<FormData> {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue
      const part = await partOf(name, item, ctx)
      if (typeof part === 'string') form.append(name, part)
      else form.append(name, new Blob([part.bytes], { type: part.type }), part.filename)
    }
  }
  return form
}

async function partOf(name: string, value: unknown, ctx: InvokeContext): Promise<string | FilePart> {
  if (typeof value === 'string') return looksLikeFile(value) ? fileOf(name, value, ctx) : value
  if (value && typeof value === 'object') {
    const v = value as { file?: unknown; filename?: unknown; contentType?: unknown; text?: unknown }
    if ('text' in v) return String(v.text ?? '')
    if (typeof v.file === 'string') {
      const file = looksLikeFile(v.file)
        ? await fileOf(name, v.file, ctx)
        : { bytes: Buffer.from(v.file), type: 'text/plain', filename: name }
      if (typeof v.filename === 'string') file.filename = v.filename
      if (typeof v.contentType === 'string') file.type = v.contentType
      return file
    }
    return JSON.stringify(value)
  }
  return String(value)
}

async function fileOf(name: string, value: string, ctx: InvokeContext): Promise<FilePart> {
  const dataUrl = DATA_URL.exec(value)
  if (dataUrl) {
    const type = dataUrl[1]?.toLowerCase() ?? 'application/octet-stream'
    return {
      bytes: decodeBase64(name, value.slice(dataUrl[0].length)),
      type,
      filename: name + extensionOf(type),
    }
  }
  if (value.startsWith('base64:')) {
    const bytes = decodeBase64(name, value.slice('base64:'.length))
    return { bytes, type: 'application/octet-stream', filename: name }
  }
  const config = ctx.config as HttpConfig
  const file = await downloadFile(value, ctx, { allowPrivate: config.allowPrivateFileUrls === true })
  return { ...file, filename: file.filename ?? name + extensionOf(file.type) }
}

function decodeBase64(name: string, text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) {
    throw new ProviderError(`multipart field '${name}' is not valid base64`, { retryable: false })
  }
  return Buffer.from(clean, 'base64')
}

const extensionOf = (type: string) => EXTENSIONS[type] ?? ''
