/**
 * SSRF guard for callback URLs: a callback may only reach public addresses
 * over http(s). Checked when a task is accepted and again on every try,
 * because DNS can change in between.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { GantryError } from '../errors.js'
import type { LookupFn } from '../model/callback.js'
import { isForbiddenAddress } from '../net/forbidden-address.js'

export interface CallbackTarget {
  url: URL
  /** The checked address to connect to; connecting to it (not the name) defeats DNS rebinding. */
  address: string
  family: number
}

const refuse = (message: string) => new GantryError('VALIDATION_FAILED', `callbackUrl ${message}`)

const systemLookup: LookupFn = (host) => dnsLookup(host, { all: true, verbatim: true })

/**
 * Parses and checks a callback URL and picks the address to connect to. Throws
 * VALIDATION_FAILED for a scheme other than http(s), credentials in the URL, a
 * host that does not resolve, or any resolved address that is forbidden
 * (unless `allowPrivate`). IP literals are checked without DNS.
 */
export async function resolveCallbackTarget(
  url: string,
  opts: { allowPrivate: boolean; lookup?: LookupFn },
): Promise<CallbackTarget> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw refuse('is not a valid URL')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw refuse('must be http or https')
  if (parsed.username || parsed.password) throw refuse('must not contain credentials')

  // the URL parser has already turned odd IPv4 spellings (0x7f.1, 2130706433) into dotted form
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  const literal = isIP(host)
  const addresses = literal ? [{ address: host, family: literal }] : await resolveHost(host, opts.lookup)
  if (!opts.allowPrivate && addresses.some((a) => isForbiddenAddress(a.address))) {
    // the address itself stays out of the message: it would map the internal network for the caller
    throw refuse(`host '${host}' is a private, local or reserved address`)
  }
  const chosen = addresses[0]
  return { url: parsed, address: chosen.address, family: isIP(chosen.address) || chosen.family }
}

/** The same checks at accept time, so a bad callbackUrl is refused before the task runs. */
export async function assertCallbackAllowed(url: string, allowPrivate: boolean): Promise<void> {
  await resolveCallbackTarget(url, { allowPrivate })
}

async function resolveHost(host: string, lookup: LookupFn = systemLookup) {
  let addresses: { address: string; family: number }[]
  try {
    addresses = await lookup(host)
  } catch (err) {
    throw new GantryError('VALIDATION_FAILED', `callbackUrl host '${host}' does not resolve`, { cause: err })
  }
  // an answer that is not an IP address cannot be judged, so it counts as not resolving
  const usable = addresses.filter((a) => isIP(a.address))
  if (usable.length === 0 || usable.length !== addresses.length) {
    throw refuse(`host '${host}' does not resolve`)
  }
  return usable
}
