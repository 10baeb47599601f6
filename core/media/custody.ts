/**
 * Media custody: provider results often expire (some platforms delete them
 * after an hour), so every image, video or asset of a successful call is
 * copied into Gantry's media store. The item's `url` becomes Gantry's own
 * signed link and `sourceUrl` keeps the provider's.
 */
import { request } from 'undici'
import { createPinnedAgent } from '../callbacks/pinned-agent.js'
import { resolveCallbackTarget } from '../callbacks/ssrf.js'
import type { MediaItem, ProviderResult } from '../contract.js'
import { GantryError } from '../errors.js'
import type { MediaStore } from './media-store.js'
import type { MediaLinks } from './signed-link.js'

export interface CustodyOptions {
  store: MediaStore
  links: MediaLinks
  /** Largest item fetched or decoded. */
  maxBytes: number
  /** Lets result URLs on loopback and private addresses be fetched (as for callbacks). */
  allowPrivate: boolean
  timeoutMs?: number
}

const MEDIA_TYPE = /^(image|video|audio)\/[\w.+-]+$|^application\/octet-stream$/
const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[^,]*)?;base64,/

const failure = (message: string) => new GantryError('PROVIDER_ERROR', `result media: ${message}`)

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
    return { bytes, mimeType: match[1] ?? 'application/octet-stream' }
  }

  async function keep(item: MediaItem, allowedHosts: readonly string[]): Promise<MediaItem> {
    const source = typeof item === 'string' ? (item as string) : item?.url
    if (typeof source !== 'string' || source.startsWith('/media/')) return item
    const fetched = source.startsWith('data:') ? decodeDataUrl(source) : await fetchItem(source, allowedHosts)
    const mimeType = item.mimeType ?? fetched.mimeType
    const stored = await opts.store.put(fetched.bytes, mimeType)
    const kept: MediaItem = { ...item, url: opts.links.link(stored.key), mimeType }
    if (!source.startsWith('data:')) kept.sourceUrl = source
    return kept
  }

  return {
    /** The result with every media item in Gantry's store; throws PROVIDER_ERROR when one cannot be kept. */
    async keepResult(result: ProviderResult, allowedHosts: readonly string[] = []): Promise<ProviderResult> {
      const keepAll = (items: MediaItem[] | undefined) =>
        Array.isArray(items)
          ? Promise.all(items.map((item) => keep(item, allowedHosts)))
          : Promise.resolve(items)
      const [images, videos, assets] = await Promise.all([
        keepAll(result.images),
        keepAll(result.videos),
        keepAll(result.assets),
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
