/**
 * Downloading a file a caller named by url, to upload it as a multipart
 * part. The url comes from the caller's inputs, so by default it may not
 * reach loopback or private addresses (the worker would otherwise fetch
 * internal services and hand their answers to a third party). The address
 * is checked as the connection is made, so a DNS answer cannot change
 * between the check and the connect; redirects are not followed.
 */
import { type LookupAddress, lookup } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { Agent, type Dispatcher, request } from 'undici'
import { type InvokeContext, ProviderError } from '../../core/contract.js'
import { type HttpConfig, timeoutMsOf } from './config.js'
import { networkError } from './errors.js'

const MAX_FILE_BYTES = 50 * 1024 * 1024

const blocked = new BlockList()
const V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
]
// BlockList checks IPv4-mapped IPv6 addresses (::ffff:127.0.0.1, ::ffff:7f00:1) against the IPv4 rules
const V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
]
for (const [net, prefix] of V4) blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of V6) blocked.addSubnet(net, prefix, 'ipv6')

/** Loopback, private, link-local, multicast and reserved addresses; anything that is not an IP too. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return blocked.check(address, 'ipv4')
  if (family === 6) return blocked.check(address, 'ipv6')
  return true
}

const PRIVATE = 'EPRIVATEADDRESS'

/** net.connect's lookup, refusing a host any of whose addresses is private. */
function publicOnlyLookup(hostname: string, options: object, callback: (...args: any[]) => void) {
  lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err)
    const bad = addresses.find((a) => isPrivateAddress(a.address))
    if (bad) return callback(Object.assign(new Error(`${hostname} is a private address`), { code: PRIVATE }))
    if ((options as { all?: boolean }).all) return callback(null, addresses)
    callback(null, addresses[0].address, addresses[0].family)
  })
}

const publicAgent = new Agent({ connect: { lookup: publicOnlyLookup } })
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
  const host = target.hostname.replace(/^\[|\]$/g, '')
  // connecting to an IP literal skips the lookup, so it is checked here
  if (!opts.allowPrivate && isIP(host) && isPrivateAddress(host)) throw refused(where)
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
    if ((err as { code?: string }).code === PRIVATE) throw refused(where)
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
