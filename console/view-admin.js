/** Admin: invocation logs per ability (new ones highlighted live), executors, definition errors, wallets. */
import { api } from './api.js'
import { duration, fill, h, json, notice, statusBadge, when } from './dom.js'

export function renderAdmin(main, ctx, abilityId) {
  if (!ctx.isAdmin) {
    fill(main, notice('The admin view needs a token with role admin.', 'error'))
    return
  }
  const abilitySelect = h('select', { id: 'log-ability' }, h('option', { value: '' }, 'Choose an ability'))
  const logs = h('div', { id: 'logs' }, notice('Choose an ability to see its invocation logs.'))
  const executors = h('div', { id: 'executors' }, notice('Loading…'))
  const defErrors = h('div', { id: 'definition-errors' }, notice('Loading…'))
  const wallet = walletPanel()
  fill(
    main,
    h('h2', { class: 'sr-only' }, 'Admin'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'logs-title' },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { id: 'logs-title' }, 'Invocation logs'),
        h('label', { for: 'log-ability' }, 'Ability'),
        abilitySelect,
      ),
      logs,
    ),
    h(
      'div',
      { class: 'split even' },
      h('section', { class: 'panel' }, h('h2', {}, 'Executors'), executors),
      h('section', { class: 'panel' }, h('h2', {}, 'Definition errors'), defErrors),
    ),
    wallet.element,
  )

  const fresh = new Set()
  const openLogs = new Set()
  async function loadLogs() {
    const id = abilitySelect.value
    if (!id) return fill(logs, notice('Choose an ability to see its invocation logs.'))
    try {
      const page = await api(`/api/admin/abilities/${encodeURIComponent(id)}/logs?limit=50`)
      fill(logs, page.items.length ? logTable(page.items) : notice(`No invocations of ${id} yet.`))
    } catch (err) {
      fill(logs, notice(`Could not load logs: ${err.message}`, 'error'))
    }
  }

  function logTable(items) {
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table', id: 'log-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Time', 'Status', 'Duration', 'Cost', 'User', 'Log'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          items.map((log) => {
            const row = h(
              'tr',
              { class: fresh.has(log.logId) ? 'fresh' : undefined, dataset: { logId: log.logId } },
              h('td', {}, when(log.createdAt)),
              h(
                'td',
                {},
                statusBadge(log.status),
                log.errorCode ? h('div', { class: 'meta' }, log.errorCode) : '',
              ),
              h('td', {}, duration(log.durationMs)),
              h('td', {}, `${log.cost?.points ?? 0}`),
              h('td', {}, log.userId, log.taskId ? h('div', { class: 'meta' }, log.taskId) : ''),
              h(
                'td',
                {},
                h('code', {}, log.logId),
                ' ',
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    'aria-expanded': String(openLogs.has(log.logId)),
                    onclick: () => {
                      if (openLogs.has(log.logId)) openLogs.delete(log.logId)
                      else openLogs.add(log.logId)
                      loadLogs()
                    },
                  },
                  openLogs.has(log.logId) ? 'Hide raw' : 'Raw response',
                ),
              ),
            )
            if (!openLogs.has(log.logId)) return row
            return [
              row,
              h(
                'tr',
                { class: 'detail-row' },
                h(
                  'td',
                  { colspan: 6 },
                  h(
                    'div',
                    { class: 'raw-grid' },
                    h('div', {}, h('h3', {}, 'Raw response'), json(log.raw)),
                    h('div', {}, h('h3', {}, 'Request'), json(log.request)),
                    log.errorCode || log.errorDetail
                      ? h(
                          'div',
                          {},
                          h('h3', {}, 'Error'),
                          json({ code: log.errorCode, detail: log.errorDetail }),
                        )
                      : '',
                  ),
                ),
              ),
            ]
          }),
        ),
      ),
    )
  }

  abilitySelect.addEventListener('change', () => {
    ctx.go(abilitySelect.value ? `#/admin/${encodeURIComponent(abilitySelect.value)}` : '#/admin')
  })

  ;(async () => {
    try {
      const { abilities } = await api('/api/abilities')
      abilitySelect.append(
        ...abilities.map((a) =>
          h('option', { value: a.id, selected: a.id === abilityId }, `${a.name ?? a.id} (${a.id})`),
        ),
      )
      if (abilityId) loadLogs()
    } catch (err) {
      fill(logs, notice(`Could not load abilities: ${err.message}`, 'error'))
    }
  })()

  ;(async () => {
    try {
      const { items } = await api('/api/admin/executors')
      fill(
        executors,
        items.length
          ? h(
              'ul',
              { class: 'list' },
              items.map((e) =>
                h(
                  'li',
                  { class: 'item' },
                  h('strong', {}, e.executorId),
                  h(
                    'span',
                    { class: 'meta' },
                    `${e.provider} · running ${e.running}/${e.maxConcurrency} · queued ${e.queued}`,
                  ),
                  e.configured
                    ? ''
                    : h(
                        'span',
                        { class: 'badge badge-failed' },
                        `not configured: ${(e.notConfigured ?? []).join(', ')}`,
                      ),
                ),
              ),
            )
          : notice('No executors are defined.'),
      )
    } catch (err) {
      fill(executors, notice(`Could not load executors: ${err.message}`, 'error'))
    }
  })()

  ;(async () => {
    try {
      const { items } = await api('/api/admin/definitions/errors')
      fill(
        defErrors,
        items.length
          ? h(
              'ul',
              { class: 'list' },
              items.map((e) =>
                h('li', { class: 'item' }, h('code', {}, e.location), h('span', {}, e.message)),
              ),
            )
          : notice('Every definition file loaded.'),
      )
    } catch (err) {
      fill(defErrors, notice(`Could not load definition errors: ${err.message}`, 'error'))
    }
  })()

  const off = ctx.on('ability-log.created', (p) => {
    if (p?.abilityId !== abilitySelect.value) return
    fresh.add(p.logId)
    loadLogs()
  })
  return off
}

function walletPanel() {
  const userInput = h('input', { id: 'wallet-user', name: 'userId', required: true, autocomplete: 'off' })
  const out = h('div', { id: 'wallet-out', 'aria-live': 'polite' })
  const points = h('input', { id: 'grant-points', type: 'number', min: 1, step: 'any', required: true })
  const reason = h('input', { id: 'grant-reason', required: true })
  let userId = ''

  async function lookup() {
    userId = userInput.value.trim()
    if (!userId) return
    try {
      const id = encodeURIComponent(userId)
      const [wallet, ledger] = await Promise.all([
        api(`/api/admin/wallets/${id}`),
        api(`/api/admin/wallets/${id}/ledger?limit=20`),
      ])
      fill(
        out,
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Balance'),
          h('dd', { id: 'wallet-balance' }, String(wallet.balance)),
          h('dt', {}, 'Frozen'),
          h('dd', {}, String(wallet.frozen)),
          h('dt', {}, 'Available'),
          h('dd', {}, String(wallet.available)),
        ),
        ledger.items.length
          ? h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'table' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Time', 'Kind', 'Points', 'Ref / reason'].map((t) => h('th', { scope: 'col' }, t)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  ledger.items.map((e) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, when(e.createdAt)),
                      h('td', {}, e.kind),
                      h('td', {}, String(e.points ?? '')),
                      h(
                        'td',
                        {},
                        [e.holdKey, e.reason, e.actor && `by ${e.actor}`].filter(Boolean).join(' · '),
                      ),
                    ),
                  ),
                ),
              ),
            )
          : notice('No ledger entries.'),
      )
    } catch (err) {
      fill(out, notice(`Could not load wallet: ${err.message}`, 'error'))
    }
  }

  const lookupForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: (e) => {
        e.preventDefault()
        lookup()
      },
    },
    h('label', { for: 'wallet-user' }, 'User id'),
    userInput,
    h('button', { type: 'submit' }, 'Look up'),
  )
  const grantError = h('p', { class: 'field-error', hidden: true, role: 'alert' })
  const grantForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (e) => {
        e.preventDefault()
        grantError.hidden = true
        if (!userId) {
          grantError.textContent = 'Look up a user first.'
          grantError.hidden = false
          return
        }
        try {
          await api(`/api/admin/wallets/${encodeURIComponent(userId)}/grant`, {
            body: { points: Number(points.value), reason: reason.value },
          })
          points.value = reason.value = ''
          lookup()
        } catch (err) {
          grantError.textContent = err.message
          grantError.hidden = false
        }
      },
    },
    h('label', { for: 'grant-points' }, 'Points'),
    points,
    h('label', { for: 'grant-reason' }, 'Reason'),
    reason,
    h('button', { type: 'submit' }, 'Grant'),
  )
  return {
    element: h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Wallets'),
      lookupForm,
      out,
      h('h3', {}, 'Grant points'),
      grantForm,
      grantError,
    ),
  }
}
