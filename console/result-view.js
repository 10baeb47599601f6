/** Shows an AbilityInvokeResponse: media first, then texts, then the facts (status, duration, cost, logId) and raw JSON. */
import { duration, h, json, statusBadge } from './dom.js'

/**
 * @example
 * panel.append(resultView(response))
 */
export function resultView(result) {
  if (!result) return h('p', { class: 'notice notice-empty' }, 'No result yet.')
  const media = [
    ...(result.images ?? []).map((m) =>
      linked(m, (href) =>
        h(
          'a',
          { href, target: '_blank', rel: 'noopener' },
          h('img', { src: href, alt: 'result image', loading: 'lazy', width: m.width, height: m.height }),
        ),
      ),
    ),
    ...(result.videos ?? []).map((m) =>
      linked(m, (href) => h('video', { src: href, controls: true, preload: 'metadata' })),
    ),
    ...(result.assets ?? []).map((m) =>
      linked(m, (href) => h('a', { href, target: '_blank', rel: 'noopener' }, m.mimeType ?? 'asset')),
    ),
  ]
  const texts = (result.texts ?? []).map((t) => h('pre', { class: 'result-text' }, t))
  return h(
    'section',
    { class: 'result', 'aria-label': 'result' },
    h(
      'dl',
      { class: 'facts' },
      fact('Status', statusBadge(result.status ?? 'unknown')),
      result.durationMs !== undefined ? fact('Duration', duration(result.durationMs)) : '',
      result.cost ? fact('Cost', `${result.cost.points ?? 0} points`) : '',
      result.logId ? fact('Log', h('code', { class: 'log-id' }, result.logId)) : '',
      result.taskId ? fact('Task', h('code', {}, result.taskId)) : '',
    ),
    result.error
      ? h(
          'p',
          { class: 'notice notice-error', role: 'alert' },
          `${result.error.code}: ${result.error.message}`,
        )
      : '',
    media.length ? h('div', { class: 'media' }, media) : '',
    texts,
    h('details', {}, h('summary', {}, 'Raw JSON'), json(result)),
  )
}

/**
 * Where a media item may be linked from the page: Gantry's own `/media/` links, http(s) URLs and
 * data: URLs of images, video or audio. Anything else (`javascript:`, a url that is no string) is
 * no link at all, whatever an older stored result holds.
 * @example
 * mediaHref('javascript:alert(1)') // undefined
 */
export function mediaHref(url) {
  if (typeof url !== 'string') return undefined
  if (url.startsWith('/media/') || /^data:(image|video|audio)\//i.test(url)) return url
  try {
    const { protocol } = new URL(url)
    return protocol === 'http:' || protocol === 'https:' ? url : undefined
  } catch {
    return undefined
  }
}

function linked(item, render) {
  const href = mediaHref(typeof item === 'string' ? item : item?.url)
  return href ? render(href) : h('span', { class: 'hint' }, 'media with no usable link')
}

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)]
}
