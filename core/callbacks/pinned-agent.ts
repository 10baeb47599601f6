/**
 * An undici Agent that connects to one already-checked address whatever DNS
 * says by then, while the URL keeps the host name (so Host and TLS SNI and
 * certificate checks still use the name). One agent per try, destroyed after
 * it, so no pooled connection outlives the check that allowed it.
 */
import type { LookupFunction } from 'node:net'
import { Agent } from 'undici'

export function createPinnedAgent(address: string, family: number, connectTimeoutMs: number): Agent {
  const lookup: LookupFunction = (_host, options, callback) => {
    // with autoSelectFamily (Node's default) net asks for every address at once
    if (options.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }
  // undici 7 follows no redirects unless a redirect interceptor is composed in, so a 3xx stays an answer
  return new Agent({ connect: { lookup, timeout: connectTimeoutMs } })
}
