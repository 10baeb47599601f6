/**
 * Live updates: a ticket, then EventSource (the token never goes in a URL). If the stream fails,
 * poll the task list every 3 s while the page is visible, and try the stream again later.
 */
import { api } from './api.js'

const TYPES = ['ability-task.status', 'workflow-job.status', 'wallet.points', 'ability-log.created']
const POLL_MS = 3000
const RECONNECT_MS = [5000, 15000, 30000, 60000]

/**
 * @example
 * const live = startLive({ onEvent: (type, payload) => ..., onMode: (mode) => ... })
 * live.stop()
 */
export function startLive({ onEvent, onMode, onRefresh }) {
  let source
  let pollTimer
  let reconnectTimer
  let failures = 0
  let stopped = false

  const setMode = (mode) => onMode?.(mode)

  async function connect() {
    clearTimeout(reconnectTimer)
    if (stopped) return
    try {
      const { ticket } = await api('/api/notify/v1/ticket', { method: 'POST' })
      if (stopped) return
      source = new EventSource(`/api/notify/v1/stream?ticket=${encodeURIComponent(ticket)}`)
    } catch {
      return fallBack()
    }
    source.addEventListener('open', () => {
      failures = 0
      stopPolling()
      setMode('live')
    })
    for (const type of TYPES) {
      source.addEventListener(type, (e) => {
        try {
          onEvent(type, JSON.parse(e.data).payload)
        } catch {}
      })
    }
    // the server dropped what we missed: whatever is on screen may be stale
    source.addEventListener('reset', () => onRefresh?.())
    // a ticket is single use, so EventSource's own reconnect cannot work: close and go polling
    source.addEventListener('error', () => fallBack())
  }

  function fallBack() {
    source?.close()
    source = undefined
    if (stopped) return
    setMode('polling')
    startPolling()
    const wait = RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)]
    failures += 1
    reconnectTimer = setTimeout(connect, wait)
  }

  async function poll() {
    if (document.hidden || stopped) return
    try {
      const page = await api('/api/ability-tasks?limit=50')
      for (const task of page.items) onEvent('ability-task.status', task, { polled: true })
      onRefresh?.({ polled: true })
    } catch {}
  }

  function startPolling() {
    if (pollTimer) return
    pollTimer = setInterval(poll, POLL_MS)
  }

  function stopPolling() {
    clearInterval(pollTimer)
    pollTimer = undefined
  }

  function onVisibility() {
    if (document.hidden) return
    // coming back: refresh at once rather than wait for the next tick or event
    if (pollTimer) poll()
    else onRefresh?.()
  }

  document.addEventListener('visibilitychange', onVisibility)
  connect()

  return {
    stop() {
      stopped = true
      source?.close()
      stopPolling()
      clearTimeout(reconnectTimer)
      document.removeEventListener('visibilitychange', onVisibility)
    },
  }
}
