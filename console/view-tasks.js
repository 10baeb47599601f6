/** Tasks: the user's tasks newest first, kept current by `ability-task.status` events (or polling). */
import { api } from './api.js'
import { fill, h, notice, progressBar, statusBadge, when } from './dom.js'
import { resultView } from './result-view.js'
import { prefill } from './view-abilities.js'

const ACTIVE = new Set(['queued', 'running'])
const ENDED = new Set(['succeeded', 'failed', 'canceled'])

export function renderTasks(main, ctx) {
  const tasks = new Map()
  const open = new Set()
  const body = h('tbody', {})
  const table = h(
    'table',
    { class: 'table', id: 'task-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Created', 'Ability', 'Status', 'Progress', 'Stage / ETA', 'Actions'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    body,
  )
  const state = h('div', {}, notice('Loading tasks…'))
  const more = h('button', { type: 'button', hidden: true }, 'Load older')
  fill(
    main,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'tasks-title' },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { id: 'tasks-title' }, 'Tasks'),
        h('button', { type: 'button', onclick: () => load() }, 'Refresh'),
      ),
      state,
      h('div', { class: 'table-wrap' }, table),
      more,
    ),
  )

  let cursor
  async function load(older = false) {
    try {
      const page = await api(
        `/api/ability-tasks?limit=50${older && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      if (!older) tasks.clear()
      for (const t of page.items) tasks.set(t.id, t)
      cursor = page.nextCursor
      more.hidden = !cursor
      draw()
    } catch (err) {
      fill(state, notice(`Could not load tasks: ${err.message}`, 'error'))
    }
  }
  more.addEventListener('click', () => load(true))

  function sorted() {
    return [...tasks.values()].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)))
  }

  function draw() {
    fill(state, tasks.size ? '' : notice('No tasks yet. Queue one from Abilities.'))
    table.hidden = !tasks.size
    const focused = document.activeElement?.dataset?.key
    fill(body, sorted().map(rows))
    if (focused) body.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus()
  }

  function rows(task) {
    const active = ACTIVE.has(task.status)
    const eta = task.eta !== null && task.eta !== undefined && active ? `~${Math.ceil(task.eta)} s left` : ''
    const row = h(
      'tr',
      { dataset: { taskId: task.id, status: task.status } },
      h('td', {}, when(task.createdAt)),
      h('td', {}, h('code', {}, task.abilityId), h('div', { class: 'meta' }, task.id)),
      h('td', { class: 'status' }, statusBadge(task.status)),
      h(
        'td',
        {},
        progressBar(task.status === 'succeeded' ? 100 : task.progress, `progress of ${task.id}`),
        ` ${task.status === 'succeeded' ? 100 : (task.progress ?? 0)}%`,
      ),
      h('td', {}, [task.stage, eta].filter(Boolean).join(' · ') || (task.errorMessage ?? '')),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'row-actions' },
          active
            ? button(`cancel:${task.id}`, 'Cancel', async () => {
                tasks.set(
                  task.id,
                  await api(`/api/ability-tasks/${encodeURIComponent(task.id)}/cancel`, { method: 'POST' }),
                )
                draw()
              })
            : '',
          button(`rerun:${task.id}`, 'Re-run', () => {
            prefill.abilityId = task.abilityId
            // a large media input is stored as a reference only Gantry may write: it is attached again
            prefill.inputs = Object.fromEntries(
              Object.entries(task.inputs ?? {}).filter(
                ([, v]) => !(typeof v === 'string' && v.startsWith('gantry-media:')),
              ),
            )
            ctx.go(`#/abilities/${encodeURIComponent(task.abilityId)}`)
          }),
          !active
            ? button(`open:${task.id}`, open.has(task.id) ? 'Hide result' : 'Open result', () => {
                if (open.has(task.id)) open.delete(task.id)
                else open.add(task.id)
                draw()
              })
            : '',
        ),
      ),
    )
    if (!open.has(task.id)) return row
    const detail = h(
      'tr',
      { class: 'detail-row' },
      h(
        'td',
        { colspan: 6 },
        task.errorCode ? notice(`${task.errorCode}: ${task.errorMessage ?? ''}`, 'error') : '',
        task.resultPayload ? resultView(task.resultPayload) : notice('No result.'),
      ),
    )
    return [row, detail]
  }

  function button(key, label, onclick) {
    return h(
      'button',
      {
        type: 'button',
        dataset: { key },
        onclick: () =>
          Promise.resolve(onclick()).catch((err) => ctx.toast(`${label} failed: ${err.message}`)),
      },
      label,
    )
  }

  let frame
  const redraw = () => {
    cancelAnimationFrame(frame)
    frame = requestAnimationFrame(draw)
  }
  // an event carries a summary and a link to the task: the result of an ended task, and the
  // inputs of one this page has not seen (for Re-run), come from the link
  async function fetchWhole(href) {
    try {
      const task = await api(href)
      if (!tasks.has(task.id)) return
      // only what events leave out: a status from the fetch may be older than the last event's
      const { inputs, metadata, priority, callback, externalId, resultPayload, errorMessage } = task
      const ended = ENDED.has(task.status) ? { resultPayload, errorMessage } : {}
      tasks.set(task.id, {
        ...tasks.get(task.id),
        inputs,
        metadata,
        priority,
        callback,
        externalId,
        ...ended,
      })
      redraw()
    } catch {}
  }
  const offStatus = ctx.on('ability-task.status', (payload) => {
    const known = tasks.get(payload.id)
    if (!known && !payload.abilityId) return
    tasks.set(payload.id, { ...known, ...payload })
    if (payload.href && (ENDED.has(payload.status) || !known)) fetchWhole(payload.href)
    redraw()
  })
  const offRefresh = ctx.on('refresh', (_p, meta) => {
    if (!meta?.polled) load()
  })
  load()
  return () => {
    offStatus()
    offRefresh()
    cancelAnimationFrame(frame)
  }
}
