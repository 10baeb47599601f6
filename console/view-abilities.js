/** Abilities: a searchable list; the selected one as a form from its input schema, a live estimate, Run now / Queue, the result. */
import { ApiError, api } from './api.js'
import { fill, h, notice } from './dom.js'
import { resultView } from './result-view.js'
import { schemaForm } from './schema-form.js'

/** Inputs to prefill the next form with, set by "re-run" in the Tasks view. */
export const prefill = { abilityId: undefined, inputs: undefined }

export function renderAbilities(main, ctx, selectedId) {
  const search = h('input', { id: 'ability-search', type: 'search', placeholder: 'name, id, description' })
  const typeFilter = h('select', { id: 'ability-type' }, h('option', { value: '' }, 'All types'))
  const list = h('ul', { class: 'list', id: 'ability-list', 'aria-label': 'Abilities' })
  const detail = h('section', { class: 'panel detail', id: 'ability-detail', 'aria-live': 'polite' })
  fill(
    main,
    h(
      'div',
      { class: 'split' },
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'abilities-title' },
        h('h2', { id: 'abilities-title' }, 'Abilities'),
        h(
          'div',
          { class: 'filters' },
          h('label', { for: 'ability-search' }, 'Search'),
          search,
          h('label', { for: 'ability-type' }, 'Type'),
          typeFilter,
        ),
        list,
      ),
      detail,
    ),
  )

  let abilities = []
  function showList() {
    const q = search.value.trim().toLowerCase()
    const type = typeFilter.value
    const shown = abilities.filter(
      (a) =>
        (!type || a.type === type) &&
        (!q || [a.id, a.name, a.description].some((s) => s?.toLowerCase().includes(q))),
    )
    fill(
      list,
      shown.length
        ? shown.map((a) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  href: `#/abilities/${encodeURIComponent(a.id)}`,
                  class: 'item',
                  'aria-current': a.id === selectedId ? 'true' : undefined,
                },
                h('strong', {}, a.name ?? a.id),
                h('span', { class: 'meta' }, `${a.id} · ${a.type ?? 'any'}`),
                a.ready === false ? h('span', { class: 'badge badge-failed' }, 'not ready') : '',
              ),
            ),
          )
        : notice(abilities.length ? 'No ability matches.' : 'No abilities are defined.'),
    )
  }
  search.addEventListener('input', showList)
  typeFilter.addEventListener('change', showList)

  let dropForm = () => {}
  ;(async () => {
    try {
      abilities = (await api('/api/abilities')).abilities
    } catch (err) {
      fill(list, notice(`Could not load abilities: ${err.message}`, 'error'))
      return
    }
    const types = [...new Set(abilities.map((a) => a.type).filter(Boolean))].sort()
    typeFilter.append(...types.map((t) => h('option', { value: t }, t)))
    showList()
    const selected = abilities.find((a) => a.id === selectedId)
    if (selected) dropForm = abilityForm(detail, ctx, selected)
    else fill(detail, notice(selectedId ? `No ability '${selectedId}'.` : 'Choose an ability to run it.'))
  })()
  return () => dropForm()
}

function abilityForm(panel, ctx, ability) {
  const given = prefill.abilityId === ability.id ? prefill.inputs : undefined
  prefill.abilityId = prefill.inputs = undefined
  const form = schemaForm(ability.input, { values: given })
  const estimate = h('output', { class: 'estimate', id: 'estimate', 'aria-live': 'polite' }, '…')
  const result = h('div', { id: 'ability-result' })
  const run = h('button', { type: 'submit', class: 'primary', id: 'run-now' }, 'Run now')
  const queue = h('button', { type: 'button', id: 'queue' }, 'Queue')
  const element = h(
    'form',
    { class: 'ability-form', novalidate: true },
    form.element,
    h('div', { class: 'actions' }, run, queue, h('span', {}, 'Estimate: ', estimate)),
  )
  fill(
    panel,
    h('h2', {}, ability.name ?? ability.id),
    h('p', { class: 'meta' }, `${ability.id} · ${ability.type ?? ''} · executor ${ability.executorId}`),
    ability.description ? h('p', {}, ability.description) : '',
    ability.ready === false ? notice(`Not ready: ${(ability.notReady ?? []).join('; ')}`, 'error') : '',
    element,
    result,
  )

  function payload() {
    const body = { inputs: form.read() }
    const image = form.imageBase64()
    if (image) body.imageBase64 = image
    return body
  }

  let timer
  let seq = 0
  async function updateEstimate() {
    const mine = ++seq
    let inputs
    try {
      inputs = form.read()
    } catch (err) {
      estimate.textContent = err.message
      return
    }
    try {
      const r = await api('/api/credits/estimate', { body: { abilityId: ability.id, inputs } })
      if (mine === seq) estimate.textContent = `${r.points} points`
    } catch (err) {
      if (mine !== seq) return
      // the server prices only valid inputs: until then, show where the price starts
      const base = ability.pricing?.base
      estimate.textContent =
        err.code !== 'VALIDATION_FAILED'
          ? err.message
          : base !== undefined
            ? `from ${base} points`
            : 'fill in the form'
    }
  }
  form.onChange(() => {
    clearTimeout(timer)
    timer = setTimeout(updateEstimate, 250)
  })
  updateEstimate()

  async function send(kind) {
    form.clearErrors()
    let body
    try {
      body = payload()
    } catch (err) {
      fill(result, notice(err.message, 'error'))
      return
    }
    run.disabled = queue.disabled = true
    fill(result, h('p', { class: 'notice', role: 'status' }, kind === 'run' ? 'Running…' : 'Queueing…'))
    try {
      if (kind === 'run') {
        fill(
          result,
          resultView(await api(`/api/abilities/${encodeURIComponent(ability.id)}/invoke`, { body })),
        )
      } else {
        const task = await api('/api/ability-tasks', { body: { abilityId: ability.id, ...body } })
        fill(
          result,
          h(
            'p',
            { class: 'notice', role: 'status' },
            `Queued as ${task.id}. `,
            h('a', { href: '#/tasks' }, 'See it in Tasks'),
          ),
        )
        ctx.toast(`Task ${task.id} queued`)
      }
    } catch (err) {
      // a provider failure still answers a full response (status failed, logId): show it as a result
      if (err instanceof ApiError && err.body?.status === 'failed') fill(result, resultView(err.body))
      else {
        if (err.code === 'VALIDATION_FAILED') form.showErrors(err.details)
        fill(result, notice(`${err.code ?? 'Error'}: ${err.message}`, 'error'))
      }
    } finally {
      run.disabled = queue.disabled = false
    }
  }
  element.addEventListener('submit', (e) => {
    e.preventDefault()
    send('run')
  })
  queue.addEventListener('click', () => send('queue'))
  return () => clearTimeout(timer)
}
