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
      h(
        'a',
        { href: m.url, target: '_blank', rel: 'noopener' },
        h('img', { src: m.url, alt: 'result image', loading: 'lazy', width: m.width, height: m.height }),
      ),
    ),
    ...(result.videos ?? []).map((m) => h('video', { src: m.url, controls: true, preload: 'metadata' })),
    ...(result.assets ?? []).map((m) =>
      h('a', { href: m.url, target: '_blank', rel: 'noopener' }, m.mimeType ?? 'asset'),
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

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)]
}
