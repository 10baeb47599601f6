/** Workflows: definitions, a start form from each one's input schema, active jobs, and one job's steps live. */
import { api } from './api.js'
import { fill, h, json, notice, progressBar, statusBadge, when } from './dom.js'
import { resultView } from './result-view.js'
import { schemaForm } from './schema-form.js'

const ENDED = new Set(['completed', 'failed', 'canceled'])

export function renderWorkflows(main, ctx, selectedId) {
  const list = h('ul', { class: 'list', 'aria-label': 'Workflows' }, notice('Loading…'))
  const jobs = h('div', { id: 'active-jobs' }, notice('Loading…'))
  const detail = h('section', { class: 'panel detail', id: 'workflow-detail' })
  fill(
    main,
    h(
      'div',
      { class: 'split' },
      h(
        'div',
        {},
        h('section', { class: 'panel' }, h('h2', {}, 'Workflows'), list),
        h('section', { class: 'panel' }, h('h2', {}, 'Active jobs'), jobs),
      ),
      detail,
    ),
  )

  async function loadJobs() {
    try {
      const page = await api('/api/workflow-jobs?active=true&limit=50')
      fill(
        jobs,
        page.items.length
          ? h(
              'ul',
              { class: 'list' },
              page.items.map((job) =>
                h(
                  'li',
                  {},
                  h(
                    'a',
                    { class: 'item', href: `#/jobs/${encodeURIComponent(job.id)}` },
                    h('strong', {}, job.workflowId),
                    statusBadge(job.status),
                    h('span', { class: 'meta' }, `${job.id} · ${when(job.createdAt)}`),
                  ),
                ),
              ),
            )
          : notice('No active jobs.'),
      )
    } catch (err) {
      fill(jobs, notice(`Could not load jobs: ${err.message}`, 'error'))
    }
  }

  ;(async () => {
    let workflows
    try {
      workflows = (await api('/api/workflows')).workflows
    } catch (err) {
      fill(list, notice(`Could not load workflows: ${err.message}`, 'error'))
      return
    }
    fill(
      list,
      workflows.length
        ? workflows.map((w) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  class: 'item',
                  href: `#/workflows/${encodeURIComponent(w.id)}`,
                  'aria-current': w.id === selectedId ? 'true' : undefined,
                },
                h('strong', {}, w.name ?? w.id),
                h('span', { class: 'meta' }, `${w.id} · ${w.steps.length} steps`),
              ),
            ),
          )
        : notice('No workflows are defined.'),
    )
    const selected = workflows.find((w) => w.id === selectedId)
    if (selected) startForm(detail, ctx, selected)
    else
      fill(detail, notice(selectedId ? `No workflow '${selectedId}'.` : 'Choose a workflow to start a job.'))
  })()
  loadJobs()
  const off = ctx.on('workflow-job.status', () => loadJobs())
  return off
}

function startForm(panel, ctx, workflow) {
  const form = schemaForm(workflow.input)
  const error = h('div', {})
  const element = h(
    'form',
    { novalidate: true },
    form.element,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'start-job' }, 'Start job'),
    ),
    error,
  )
  fill(
    panel,
    h('h2', {}, workflow.name ?? workflow.id),
    workflow.description ? h('p', {}, workflow.description) : '',
    h('p', { class: 'meta' }, `Steps: ${workflow.steps.map((s) => s.id).join(' → ')}`),
    element,
  )
  element.addEventListener('submit', async (e) => {
    e.preventDefault()
    form.clearErrors()
    fill(error)
    try {
      const { jobId } = await api(`/api/workflows/${encodeURIComponent(workflow.id)}/jobs`, {
        body: { params: form.read() },
      })
      ctx.go(`#/jobs/${encodeURIComponent(jobId)}`)
    } catch (err) {
      if (err.code === 'VALIDATION_FAILED') form.showErrors(err.details)
      fill(error, notice(`${err.code ?? 'Error'}: ${err.message}`, 'error'))
    }
  })
}

/** One job: its steps and their tasks, refetched whenever an event says it changed. */
export function renderJob(main, ctx, jobId) {
  const panel = h('section', { class: 'panel', id: 'job', 'aria-live': 'polite' }, notice('Loading job…'))
  fill(main, h('p', {}, h('a', { href: '#/workflows' }, '← Workflows')), panel)
  let job
  let pending

  async function load() {
    try {
      job = await api(`/api/workflow-jobs/${encodeURIComponent(jobId)}`)
      draw()
    } catch (err) {
      fill(panel, notice(`Could not load job ${jobId}: ${err.message}`, 'error'))
    }
  }
  // events can come in bursts (one per step task): fetch at most every 200 ms
  function soon() {
    if (pending) return
    pending = setTimeout(() => {
      pending = undefined
      load()
    }, 200)
  }

  function act(action) {
    return h(
      'button',
      {
        type: 'button',
        id: `job-${action}`,
        onclick: async () => {
          try {
            job = await api(`/api/workflow-jobs/${encodeURIComponent(jobId)}/${action}`, { method: 'POST' })
            draw()
            ctx.toast(`Job ${action}: ${job.status}`)
          } catch (err) {
            ctx.toast(`${action} failed: ${err.message}`)
          }
        },
      },
      action[0].toUpperCase() + action.slice(1),
    )
  }

  function draw() {
    const ended = ENDED.has(job.status)
    fill(
      panel,
      h('div', { class: 'panel-head' }, h('h2', {}, `Job ${job.workflowId}`), statusBadge(job.status)),
      h(
        'p',
        { class: 'meta' },
        `${job.id} · started ${when(job.createdAt)}${job.finishedAt ? ` · ended ${when(job.finishedAt)}` : ''}`,
      ),
      h('p', {}, progressBar(job.progress, 'job progress'), ` ${Math.round(job.progress ?? 0)}%`),
      job.error ? notice(typeof job.error === 'string' ? job.error : JSON.stringify(job.error), 'error') : '',
      h(
        'div',
        { class: 'actions' },
        !ended ? act('cancel') : '',
        job.status === 'failed' || job.status === 'canceled' ? act('retry') : '',
        ended && !job.consumed ? act('consume') : '',
        job.consumed ? h('span', { class: 'meta' }, `consumed ${when(job.consumedAt)}`) : '',
      ),
      h(
        'ol',
        { class: 'steps', id: 'job-steps' },
        job.steps.map((step) => {
          const items = job.tasks.filter((t) => t.stepId === step.id)
          return h(
            'li',
            { dataset: { stepId: step.id, status: step.status } },
            h(
              'div',
              { class: 'step-head' },
              h('strong', {}, step.id),
              h('code', {}, step.ability),
              statusBadge(step.status),
            ),
            items.map((t) =>
              h(
                'div',
                { class: 'step-task' },
                progressBar(t.status === 'succeeded' ? 100 : t.progress, `${step.id} task ${t.item}`),
                h('span', { class: 'meta' }, ` ${t.taskId} ${t.status}`),
                t.error ? notice(`${t.error.code}: ${t.error.message}`, 'error') : '',
                t.result ? h('details', {}, h('summary', {}, 'Result'), resultView(t.result)) : '',
              ),
            ),
            step.error ? notice(JSON.stringify(step.error), 'error') : '',
          )
        }),
      ),
      job.output ? h('details', { open: ended }, h('summary', {}, 'Job output'), json(job.output)) : '',
    )
  }

  const offJob = ctx.on('workflow-job.status', (p) => {
    if ((p?.id ?? p?.jobId) === jobId) soon()
  })
  const offRefresh = ctx.on('refresh', () => {
    if (!job || !ENDED.has(job.status)) soon()
  })
  load()
  return () => {
    offJob()
    offRefresh()
    clearTimeout(pending)
  }
}
