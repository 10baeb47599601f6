/**
 * An undici Agent for URLs named by callers: every address it connects to is
 * checked as the connection is made, so a DNS answer cannot change between a
 * check and the connect (DNS rebinding), and an IP literal is checked too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import { Agent, buildConnector } from 'undici'
import { isForbiddenAddress } from './forbidden-address.js'

/** The code of the error a refused connection fails with (found on the error or its `cause`). */
export const FORBIDDEN_ADDRESS = 'EFORBIDDENADDRESS'

type Lookup = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

export interface PublicOnlyAgentOptions {
  connectTimeoutMs?: number
  /** How names are resolved; `dns.lookup` unless a test says otherwise. */
  lookup?: Lookup
}

const forbidden = (host: string) =>
  // the address stays out of the message: it would map the internal network for the caller
  Object.assign(new Error(`${host} is a private, local or reserved address`), { code: FORBIDDEN_ADDRESS })

/**
 * @example
 * const agent = createPublicOnlyAgent()
 * await fetch(url, { dispatcher: agent }) // fails with FORBIDDEN_ADDRESS for 127.0.0.1, localhost, 169.254.169.254 ...
 */
export function createPublicOnlyAgent(opts: PublicOnlyAgentOptions = {}): Agent {
  const resolve: Lookup = opts.lookup ?? ((host, o, cb) => dnsLookup(host, o, cb))
  const lookup = (
    hostname: string,
    options: { all?: boolean },
    callback: (err: Error | null, address?: string | LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err)
      // every address counts: a connection may fall back from one to the next
      if (addresses.some((a) => isForbiddenAddress(a.address))) return callback(forbidden(hostname))
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0].address, addresses[0].family)
    })
  }
  const connectTo = buildConnector({
    lookup,
    timeout: opts.connectTimeoutMs ?? 10_000,
  } as buildConnector.BuildOptions)
  return new Agent({
    connect(options, callback) {
      // a literal address is connected to without a lookup, so it is judged here
      const host = options.hostname.replace(/^\[(.*)\]$/, '$1')
      if (isIP(host) && isForbiddenAddress(host)) return callback(forbidden(host), null)
      connectTo(options, callback)
    },
  })
}

/** True when `err` (or an error in its `cause` chain) is a connection this agent refused. */
export function isForbiddenAddressError(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === FORBIDDEN_ADDRESS) return true
    e = e.cause as typeof e
  }
  return false
}
