/** The console's shell: sign-in, navigation between views (#/abilities, #/tasks, ...), live updates. */
import { api, session } from './api.js'
import { fill, h } from './dom.js'
import { startLive } from './live.js'
import { renderAbilities } from './view-abilities.js'
import { renderAdmin } from './view-admin.js'
import { renderTasks } from './view-tasks.js'
import { renderJob, renderWorkflows } from './view-workflows.js'

const main = document.getElementById('main')
const events = new EventTarget()
let live
let cleanup = () => {}

/** What every view gets: the event stream, navigation, a toast. */
const ctx = {
  /** on('ability-task.status', fn) -> off */
  on(type, fn) {
    const listener = (e) => fn(e.detail.payload, e.detail.meta)
    events.addEventListener(type, listener)
    return () => events.removeEventListener(type, listener)
  },
  go(hash) {
    location.hash = hash
  },
  toast(message) {
    const el = document.getElementById('toast')
    el.textContent = message
    el.classList.add('shown')
    clearTimeout(ctx.toastTimer)
    ctx.toastTimer = setTimeout(() => el.classList.remove('shown'), 4000)
  },
  get isAdmin() {
    return session.claims?.role === 'admin'
  },
}

const ROUTES = [
  [/^#\/abilities(?:\/([^/]+))?$/, (m) => renderAbilities(main, ctx, m[1] && decodeURIComponent(m[1]))],
  [/^#\/tasks$/, () => renderTasks(main, ctx)],
  [/^#\/workflows(?:\/([^/]+))?$/, (m) => renderWorkflows(main, ctx, m[1] && decodeURIComponent(m[1]))],
  [/^#\/jobs\/([^/]+)$/, (m) => renderJob(main, ctx, decodeURIComponent(m[1]))],
  [/^#\/admin(?:\/([^/]+))?$/, (m) => renderAdmin(main, ctx, m[1] && decodeURIComponent(m[1]))],
]

function route() {
  cleanup()
  cleanup = () => {}
  if (!session.token) return showSignIn()
  const hash = location.hash || '#/abilities'
  for (const a of document.querySelectorAll('#nav a')) {
    const current = hash.startsWith(a.getAttribute('href'))
    if (current) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  for (const [pattern, render] of ROUTES) {
    const m = pattern.exec(hash)
    if (m) {
      cleanup = render(m) ?? (() => {})
      return
    }
  }
  fill(
    main,
    h('p', { class: 'notice notice-empty' }, 'Nothing here. '),
    h('a', { href: '#/abilities' }, 'Abilities'),
  )
}

function showSignIn(message) {
  document.getElementById('nav').hidden = true
  document.getElementById('who').hidden = true
  const input = h('textarea', {
    id: 'token',
    name: 'token',
    rows: 4,
    autocomplete: 'off',
    spellcheck: false,
    required: true,
    placeholder: 'eyJhbGciOiJIUzI1NiIs…',
  })
  const error = h(
    'p',
    { class: 'field-error', id: 'token-error', hidden: !message, role: 'alert' },
    message ?? '',
  )
  const form = h(
    'form',
    { class: 'panel sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h2', { id: 'sign-in-title' }, 'Sign in'),
    h(
      'p',
      { class: 'hint' },
      'Paste a Gantry token (npm start prints a dev admin token). It stays in this tab only (sessionStorage).',
    ),
    h('label', { for: 'token' }, 'Token'),
    input,
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const token = input.value.trim()
    if (!token) return
    session.signIn(token)
    try {
      // a cheap authenticated call: a wrong token is refused here, not on the first real action
      await api('/api/wallet')
    } catch (err) {
      session.signOut()
      error.textContent = `Sign-in refused: ${err.message}`
      error.hidden = false
      return
    }
    start()
  })
  fill(main, form)
  input.focus()
}

function start() {
  const claims = session.claims ?? {}
  document.getElementById('nav').hidden = false
  document.getElementById('who').hidden = false
  document.getElementById('nav-admin').hidden = claims.role !== 'admin'
  document.getElementById('user').textContent =
    `${claims.sub ?? '?'}${claims.role === 'admin' ? ' (admin)' : ''}`
  live?.stop()
  live = startLive({
    onEvent: (type, payload, meta) =>
      events.dispatchEvent(new CustomEvent(type, { detail: { payload, meta } })),
    onRefresh: (meta) =>
      events.dispatchEvent(new CustomEvent('refresh', { detail: { payload: null, meta } })),
    onMode: (mode) => {
      const el = document.getElementById('live-mode')
      el.textContent = mode === 'live' ? '● live' : '○ polling'
      el.dataset.mode = mode
    },
  })
  route()
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.signOut()
  live?.stop()
  live = undefined
  cleanup()
  cleanup = () => {}
  location.hash = ''
  showSignIn()
})

window.addEventListener('hashchange', () => {
  route()
  main.focus({ preventScroll: true })
})
window.addEventListener('gantry:unauthorized', () => {
  session.signOut()
  live?.stop()
  live = undefined
  cleanup()
  cleanup = () => {}
  showSignIn('Your token was refused or has expired. Sign in again.')
})
window.addEventListener('unhandledrejection', (e) => ctx.toast(`Error: ${e.reason?.message ?? e.reason}`))

if (session.token) start()
else showSignIn()
