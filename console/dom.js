/** Tiny DOM helpers: build elements without innerHTML, so nothing from the API is ever parsed as markup. */

/**
 * h('button', { type: 'button', onclick: fn }, 'Run') -> <button type="button">Run</button>
 * Attributes starting with `on` become listeners; `class`, `for` and data-/aria- attributes are set as attributes.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key in el && !key.includes('-') && key !== 'list' && key !== 'form') el[key] = value
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

/** A time in the viewer's locale; '' for none. */
export function when(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString()
}

/** `1234` -> `1.2 s`. */
export function duration(ms) {
  if (ms === undefined || ms === null) return ''
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status)
}

export function progressBar(percent, label) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0))
  return h('progress', { max: 100, value, 'aria-label': label ?? 'progress', title: `${value}%` })
}

/** A visible message for empty lists and errors. */
export function notice(text, kind = 'empty') {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : undefined }, text)
}

export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2))
}

let uid = 0
export function nextId(prefix = 'f') {
  uid += 1
  return `${prefix}-${uid}`
}
