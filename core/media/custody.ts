/**
 * Media custody: provider results often expire (some platforms delete them
 * after an hour), so every image, video or asset of a successful call is
 * copied into Gantry's media store. The item's `url` becomes Gantry's own
 * signed link and `sourceUrl` keeps the provider's. An item may be a bare URL
 * string; one that is no media URL at all is dropped (see checkItem).
 */
import { request } from 'undici'
import { createPinnedAgent } from '../callbacks/pinned-agent.js'
import { resolveCallbackTarget } from '../callbacks/ssrf.js'
import type { MediaItem, ProviderResult } from '../contract.js'
import { GantryError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { MediaStore } from '../model/media-store.js'
import type { MediaLinks } from './signed-link.js'

export interface CustodyOptions {
  store: MediaStore
  links: MediaLinks
  /** Largest item fetched or decoded. */
  maxBytes: number
  /** Lets result URLs on loopback and private addresses be fetched (as for callbacks). */
  allowPrivate: boolean
  timeoutMs?: number
  /** Where a dropped item is reported. */
  log?: Logger
}

const MEDIA_TYPE = /^(image|video|audio)\/[\w.+-]+$|^application\/octet-stream$/i
const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[^,]*)?;base64,/i
/** The type a data: URL states, when it states one. */
const DATA_TYPE = /^data:([^;,]*)/i
/** A link `MediaLinks.link` made: `/media/<key>?exp=…&sig=…`. */
const OWN_LINK = /^\/media\/([^/?#]+)\?exp=(\d+)&sig=([\w-]+)$/

const failure = (message: string) => new GantryError('PROVIDER_ERROR', `result media: ${message}`)

/**
 * A result item as custody takes it: an object whose `url` is an http(s) URL, a data: URL of
 * a media type, or a link of this Gantry; a bare URL string stands for `{ url }`. Anything
 * else (a non-string url, javascript:, file:, a data: URL of text/html) is dropped, so it
 * never reaches a client as a link.
 */
export function checkItem(
  item: unknown,
  isOwnLink: (url: string) => boolean = () => false,
): { item: MediaItem } | { dropped: string } {
  // spreading a string would make an object with one key per character
  const given = typeof item === 'string' ? { url: item } : item
  if (!given || typeof given !== 'object' || Array.isArray(given))
    return {
      dropped: `an item that is ${Array.isArray(given) ? 'a list' : typeof given}, not an object or a URL`,
    }
  const url = (given as { url?: unknown }).url
  if (typeof url !== 'string')
    return { dropped: `an item whose url is ${url === null ? 'null' : typeof url}, not a string` }
  const shown = url.length > 80 ? `${url.slice(0, 80)}…` : url
  if (/^data:/i.test(url)) {
    const type = DATA_TYPE.exec(url)?.[1] || 'application/octet-stream'
    return MEDIA_TYPE.test(type)
      ? { item: given as MediaItem }
      : { dropped: `a data: URL of ${type}, not an image, video or audio (${shown})` }
  }
  if (isOwnLink(url)) return { item: given as MediaItem }
  let scheme: string
  try {
    scheme = new URL(url).protocol
  } catch {
    return { dropped: `an item whose url is not an absolute URL (${shown})` }
  }
  return scheme === 'http:' || scheme === 'https:'
    ? { item: given as MediaItem }
    : { dropped: `an item whose url is ${scheme}, not http(s) or data: (${shown})` }
}

export function createMediaCustody(opts: CustodyOptions) {
  async function fetchItem(
    url: string,
    allowedHosts: readonly string[],
  ): Promise<{ bytes: Buffer; mimeType: string }> {
    const host = new URL(url).hostname
    let target: Awaited<ReturnType<typeof resolveCallbackTarget>>
    try {
      // the provider's own hosts (a ComfyUI on the LAN, say) may be listed in the executor's `mediaHosts`
      target = await resolveCallbackTarget(url, {
        allowPrivate: opts.allowPrivate || allowedHosts.includes(host),
      })
    } catch (err) {
      throw failure(`${host} is not a host results may be fetched from (${(err as Error).message})`)
    }
    const agent = createPinnedAgent(target.address, target.family, opts.timeoutMs ?? 30_000)
    try {
      const res = await request(target.url, {
        dispatcher: agent,
        headersTimeout: opts.timeoutMs ?? 30_000,
        bodyTimeout: opts.timeoutMs ?? 30_000,
      })
      if (res.statusCode !== 200) {
        await res.body.dump()
        throw failure(`${host} answered ${res.statusCode}`)
      }
      const mimeType = String(res.headers['content-type'] ?? 'application/octet-stream')
        .split(';')[0]
        .trim()
      if (!MEDIA_TYPE.test(mimeType)) {
        await res.body.dump()
        throw failure(`${host} answered ${mimeType}, not an image, video or audio`)
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += chunk.length
        if (size > opts.maxBytes) {
          res.body.destroy()
          throw failure(`an item from ${host} is over ${opts.maxBytes} bytes`)
        }
        chunks.push(chunk)
      }
      return { bytes: Buffer.concat(chunks), mimeType }
    } finally {
      await agent.close().catch(() => {})
    }
  }

  function decodeDataUrl(url: string): { bytes: Buffer; mimeType: string } {
    const match = DATA_URL.exec(url)
    if (!match) throw failure('a data: URL that is not base64')
    const bytes = Buffer.from(url.slice(match[0].length), 'base64')
    if (bytes.length > opts.maxBytes) throw failure(`an item is over ${opts.maxBytes} bytes`)
    return { bytes, mimeType: match[1]?.toLowerCase() ?? 'application/octet-stream' }
  }

  /** A Gantry link this server signed (kept as it is); anything else under /media/ is not one. */
  function isOwnLink(url: string): boolean {
    const link = OWN_LINK.exec(url)
    return !!link && opts.links.verify(link[1], link[2], link[3])
  }

  async function keep(given: MediaItem, source: string, allowedHosts: readonly string[]): Promise<MediaItem> {
    if (isOwnLink(source)) return given
    const fetched = /^data:/i.test(source) ? decodeDataUrl(source) : await fetchItem(source, allowedHosts)
    // the type the provider states wins, when it is a media type
    const stated = typeof given.mimeType === 'string' && MEDIA_TYPE.test(given.mimeType)
    const mimeType = stated ? given.mimeType! : fetched.mimeType
    const stored = await opts.store.put(fetched.bytes, mimeType)
    const kept: MediaItem = { ...given, url: opts.links.link(stored.key), mimeType }
    // the URL it was fetched from, never a sourceUrl the provider wrote (it is no link custody checked)
    delete kept.sourceUrl
    if (!/^data:/i.test(source)) kept.sourceUrl = source
    return kept
  }

  /** Every item kept, in order; the items that are no media URL are dropped, each with a log line. */
  async function keepAll(
    items: unknown,
    allowedHosts: readonly string[],
    context: Record<string, unknown>,
  ): Promise<MediaItem[] | undefined> {
    if (!Array.isArray(items)) return undefined
    const pending: Promise<MediaItem>[] = []
    for (const item of items) {
      const checked = checkItem(item, isOwnLink)
      if ('dropped' in checked) {
        opts.log?.('warn', 'result media item dropped', { ...context, reason: checked.dropped })
        continue
      }
      pending.push(keep(checked.item, checked.item.url, allowedHosts))
    }
    return Promise.all(pending)
  }

  return {
    /** The result with every media item in Gantry's store; throws PROVIDER_ERROR when one cannot be kept. */
    async keepResult(
      result: ProviderResult,
      allowedHosts: readonly string[] = [],
      context: Record<string, unknown> = {},
    ): Promise<ProviderResult> {
      const [images, videos, assets] = await Promise.all([
        keepAll(result.images, allowedHosts, context),
        keepAll(result.videos, allowedHosts, context),
        keepAll(result.assets, allowedHosts, context),
      ])
      return {
        ...result,
        ...(images ? { images } : {}),
        ...(videos ? { videos } : {}),
        ...(assets ? { assets } : {}),
      }
    },
  }
}

export type MediaCustody = ReturnType<typeof createMediaCustody>
