/**
 * Downloading a file a caller named by url, to upload it as a multipart
 * part. The url comes from the caller's inputs, so by default it may not
 * reach loopback or private addresses (the worker would otherwise fetch
 * internal services and hand their answers to a third party). The address
 * is checked as the connection is made, so a DNS answer cannot change
 * between the check and the connect; redirects are not followed.
 */
import { Agent, type Dispatcher, request } from 'undici'
import { type InvokeContext, ProviderError } from '../../core/contract.js'
import { createPublicOnlyAgent, isForbiddenAddressError } from '../../core/net/index.js'
import { type HttpConfig, timeoutMsOf } from './config.js'
import { networkError } from './errors.js'

const MAX_FILE_BYTES = 50 * 1024 * 1024

const publicAgent = createPublicOnlyAgent()
const anyAgent = new Agent()

const refused = (where: string) =>
  new ProviderError(
    `file url ${where} is a loopback or private address (set allowPrivateFileUrls to allow)`,
    {
      retryable: false,
    },
  )

export async function downloadFile(
  url: string,
  ctx: InvokeContext,
  opts: { allowPrivate: boolean },
): Promise<{ bytes: Uint8Array; type: string; filename?: string }> {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new ProviderError('a multipart file url is not a valid url', { retryable: false })
  }
  // never the query in a message: signed urls carry their signature there
  const where = `${target.host}${target.pathname}`
  const timeoutMs = timeoutMsOf(ctx.config as HttpConfig)
  let res: Dispatcher.ResponseData
  try {
    res = await request(target, {
      dispatcher: opts.allowPrivate ? anyAgent : publicAgent,
      signal: ctx.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
  } catch (err) {
    if (isForbiddenAddressError(err)) throw refused(where)
    throw networkError(`GET ${where}`, err)
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump()
    throw new ProviderError(`file url ${where} answered HTTP ${res.statusCode}`, {
      retryable: res.statusCode >= 500,
    })
  }
  const bytes = await readBounded(res.body, where)
  const type = String(res.headers['content-type'] ?? 'application/octet-stream')
    .split(';')[0]
    .trim()
  return { bytes, type, filename: filenameOf(target) }
}

function filenameOf(url: URL): string | undefined {
  const last = url.pathname.split('/').pop() ?? ''
  try {
    return last.includes('.') ? decodeURIComponent(last) : undefined
  } catch {
    return undefined
  }
}

async function readBounded(body: Dispatcher.ResponseData['body'], where: string): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      size += chunk.length
      if (size > MAX_FILE_BYTES) {
        body.destroy()
        throw new ProviderError(`file url ${where} is larger than ${MAX_FILE_BYTES} bytes`, {
          retryable: false,
        })
      }
      chunks.push(chunk)
    }
  } catch (err) {
    if (err instanceof ProviderError) throw err
    throw networkError(`GET ${where}`, err)
  }
  return Buffer.concat(chunks)
}
