/**
 * Where the input image comes from: `imageBase64` (plain base64 or a
 * `data:` URL) or `imageUrl` (a `data:` URL or `http(s)`), each taken from
 * the call's media first and its inputs second.
 */
import type { InvokeContext } from '../../core/contract.js'
import { invalidInput } from './errors.js'
import { fetchImage, MAX_IMAGE_BYTES } from './fetch-image.js'

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/
const DATA_URL = /^data:([^,]*),/i

/** The bytes of the call's image, not yet decoded; fails with VALIDATION_FAILED when there is none. */
export async function loadImageBytes(ctx: InvokeContext): Promise<Buffer> {
  const base64 = textOf(ctx.media.imageBase64) ?? textOf(ctx.inputs.imageBase64)
  if (base64 !== undefined) return DATA_URL.test(base64) ? fromDataUrl(base64) : fromBase64(base64)
  const url = textOf(ctx.media.imageUrl) ?? textOf(ctx.inputs.imageUrl)
  if (url === undefined) throw invalidInput('no image: send imageBase64 or imageUrl')
  if (DATA_URL.test(url)) return fromDataUrl(url)
  // read from the executor's config only: a caller must not be able to lift the guard
  const allowPrivateUrls = ctx.config.allowPrivateUrls === true
  return fetchImage(parseHttpUrl(url), { signal: ctx.signal, allowPrivateUrls })
}

const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined

function fromDataUrl(url: string): Buffer {
  const header = DATA_URL.exec(url)?.[1] ?? ''
  const [mime, ...params] = header.split(';')
  if (mime && !/^image\//i.test(mime)) throw invalidInput(`the data URL holds '${mime}', not an image`)
  if (!params.some((p) => p.toLowerCase() === 'base64')) throw invalidInput('the data URL must be base64')
  return fromBase64(url.slice(header.length + 'data:,'.length))
}

function fromBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '')
  // Buffer.from skips characters it does not know, so garbage would decode to something
  if (!BASE64.test(compact)) throw invalidInput('imageBase64 is not valid base64')
  // checked before decoding, so an oversized string is not copied once more
  if ((compact.length * 3) / 4 > MAX_IMAGE_BYTES + 3) {
    throw invalidInput(`the image is over the limit of ${MAX_IMAGE_BYTES} bytes`)
  }
  // Node's base64 decoder also takes the URL-safe alphabet
  const bytes = Buffer.from(compact, 'base64')
  if (bytes.length === 0) throw invalidInput('imageBase64 is empty')
  return bytes
}

function parseHttpUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw invalidInput('imageUrl is not a URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput(`imageUrl must be a data: or http(s) URL, not ${url.protocol}`)
  }
  return url
}
