/**
 * A caller's image URL is fetched from inside the deployment, so by default
 * it may not point at loopback, private, link-local (cloud metadata) or
 * multicast addresses. An executor on a trusted network lifts this with
 * `allowPrivateUrls: true`.
 */
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { fetchFailed, invalidInput } from './errors.js'

const PRIVATE = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4')
}
// BlockList also matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules
for (const [network, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6')
}

/**
 * Refuses a host that is, or resolves to, a private address. The fetch
 * resolves the name again, so a DNS server that answers differently the
 * second time gets past this; it stops literal addresses and plain names.
 */
export async function assertPublicHost(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host)
  for (const { address, family } of addresses) {
    if (PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      throw invalidInput(
        `imageUrl host ${url.host} is a private address; an executor on a trusted network may set allowPrivateUrls: true`,
      )
    }
  }
}

async function resolve(host: string) {
  try {
    return await lookup(host, { all: true, verbatim: true })
  } catch (err) {
    const code = (err as { code?: string }).code
    // a name that does not exist is the caller's mistake; a DNS hiccup may pass
    if (code === 'ENOTFOUND') throw invalidInput(`imageUrl host ${host} does not resolve`)
    throw fetchFailed(`could not resolve imageUrl host ${host}: ${code ?? (err as Error).message}`)
  }
}
