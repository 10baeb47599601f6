/**
 * Which IP addresses a URL named by a caller may not reach (a callback, a file
 * or an image to fetch): anything that is not plain public unicast. Addresses
 * are parsed into numbers and compared by prefix, so no spelling of an address
 * can slip past a string comparison.
 */
import { isIP } from 'node:net'

/** [first octet(s) as a 32-bit number, prefix length] for IPv4 ranges that are not public unicast. */
const FORBIDDEN_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, includes cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
]

const V4_RANGES = FORBIDDEN_V4.map(([base, bits]) => ({ base: parseV4(base), bits }))

/**
 * True when a caller's URL must not connect to `ip`: loopback, private, link-local,
 * unspecified, CGNAT, multicast, reserved and documentation ranges. IPv4 inside
 * IPv6 (mapped, NAT64, 6to4) is unwrapped and judged as IPv4. Anything that is
 * not an IP address is forbidden too.
 */
export function isForbiddenAddress(ip: string): boolean {
  const family = isIP(ip)
  if (family === 4) return isForbiddenV4(parseV4(ip))
  if (family === 6) return isForbiddenV6(parseV6(ip))
  return true
}

function isForbiddenV4(n: number): boolean {
  return V4_RANGES.some(({ base, bits }) => n >>> (32 - bits) === base >>> (32 - bits))
}

function isForbiddenV6(g: number[]): boolean {
  const v4At = (i: number) => ((g[i] << 16) | g[i + 1]) >>> 0
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  // ::ffff:a.b.c.d (mapped) reaches the IPv4 host on dual-stack sockets
  if (zeros(0, 5) && g[5] === 0xffff) return isForbiddenV4(v4At(6))
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible form; ::ffff:0:0/96 is SIIT
  if (zeros(0, 6) || (zeros(0, 4) && g[4] === 0xffff && g[5] === 0)) return true
  // 64:ff9b::/96, well-known NAT64: a gateway forwards to the embedded IPv4
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return isForbiddenV4(v4At(6))
  // 6to4 embeds the IPv4 address right after the prefix
  if (g[0] === 0x2002) return isForbiddenV4(v4At(1))
  if (g[0] === 0x2001 && g[1] === 0) return true // Teredo: the inner address is obscured
  if (g[0] === 0x2001 && g[1] === 0xdb8) return true // documentation
  // only 2000::/3 is global unicast; this also covers fc00::/7, fe80::/10, ff00::/8 and 64:ff9b:1::/48
  return g[0] >>> 13 !== 1
}

function parseV4(ip: string): number {
  return ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0)
}

/** The eight 16-bit groups of an IPv6 address already accepted by `isIP`. */
function parseV6(ip: string): number[] {
  const bare = ip.split('%')[0] // a zone id (fe80::1%eth0) names an interface, not an address
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined]
  const groups = (s: string | undefined) => {
    if (!s) return []
    return s.split(':').flatMap((part) => {
      if (!part.includes('.')) return [Number.parseInt(part, 16)]
      const n = parseV4(part)
      return [n >>> 16, n & 0xffff]
    })
  }
  const left = groups(head)
  if (tail === undefined) return left
  const right = groups(tail)
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right]
}
