/**
 * Fetching an `http(s)` image URL: at most 20 MB, an `image/*` content type,
 * a public host unless the executor allows private ones (checked as each
 * connection is made, redirects included, so DNS cannot answer one way for
 * a check and another for the fetch), and the call's abort signal, so a
 * timeout or a cancel stops the download.
 */
import { Agent, fetch, type Response } from 'undici'
import { createPublicOnlyAgent, isForbiddenAddressError } from '../../core/net/index.js'
import { fetchFailed, invalidInput } from './errors.js'

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024
const MAX_REDIRECTS = 5

const publicAgent = createPublicOnlyAgent()
const anyAgent = new Agent()

export interface FetchOptions {
  signal: AbortSignal
  allowPrivateUrls: boolean
}

/** Downloads the image at `url`; a 4xx or a wrong type is the caller's error, a 5xx may be retried. */
export async function fetchImage(url: URL, opts: FetchOptions): Promise<Buffer> {
  const { res, finalUrl } = await follow(url, opts)
  // only the host goes into messages: a signed URL's query is a credential
  const where = finalUrl.host
  if (!res.ok) {
    await res.body?.cancel()
    const message = `fetching the image from ${where} answered ${res.status}`
    throw res.status >= 500 || res.status === 429 ? fetchFailed(message) : invalidInput(message)
  }
  const type = res.headers.get('content-type') ?? ''
  if (!/^image\//i.test(type)) {
    await res.body?.cancel()
    throw invalidInput(`the image URL on ${where} served '${type || 'no content type'}', not image/*`)
  }
  if (Number(res.headers.get('content-length')) > MAX_IMAGE_BYTES) {
    await res.body?.cancel()
    throw tooLarge(where)
  }
  return readLimited(res, where)
}

// redirects are followed by hand so that each hop's host is checked
async function follow(
  start: URL,
  { signal, allowPrivateUrls }: FetchOptions,
): Promise<{ res: Response; finalUrl: URL }> {
  let url = start
  const dispatcher = allowPrivateUrls ? anyAgent : publicAgent
  for (let hop = 0; ; hop++) {
    let res: Response
    try {
      res = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'image/*' }, dispatcher })
    } catch (err) {
      if (signal.aborted) throw err
      throw whyNotFetched(err, url)
    }
    const location = res.headers.get('location')
    if (res.status < 300 || res.status > 399 || !location) return { res, finalUrl: url }
    await res.body?.cancel()
    if (hop >= MAX_REDIRECTS) throw invalidInput(`the image URL on ${start.host} redirects too often`)
    url = new URL(location, url)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalidInput(`the image URL redirects to ${url.protocol}, not http(s)`)
    }
  }
}

function whyNotFetched(err: unknown, url: URL) {
  if (isForbiddenAddressError(err)) {
    return invalidInput(
      `imageUrl host ${url.host} is a private address; an executor on a trusted network may set allowPrivateUrls: true`,
    )
  }
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause
  const cause = (err as Error).cause as { code?: string; message?: string } | undefined
  // a name that does not exist is the caller's mistake; a DNS hiccup may pass
  if (cause?.code === 'ENOTFOUND') return invalidInput(`imageUrl host ${url.hostname} does not resolve`)
  const reason = cause?.code ?? cause?.message ?? (err as Error).message
  return fetchFailed(`could not fetch the image from ${url.host}: ${reason}`)
}

// the declared length may be absent or wrong, so the body is counted as it arrives
async function readLimited(res: Response, where: string): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let total = 0
  if (!res.body) return Buffer.alloc(0)
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > MAX_IMAGE_BYTES) {
      await reader.cancel()
      throw tooLarge(where)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

const tooLarge = (where: string) =>
  invalidInput(`the image on ${where} is over the limit of ${MAX_IMAGE_BYTES} bytes`)
