/**
 * The loop that sends callbacks: takes due deliveries from the outbox, tries
 * each (a few at a time, never one twice at once) and writes back what became
 * of it. Polls, and can be kicked when a delivery is added.
 */
import { GantryError } from '../errors.js'
import {
  type CallbackDelivery,
  type CallbackOutbox,
  DEFAULT_DELIVERY_POLICY,
  type DeliveryPolicy,
  type LookupFn,
} from '../model/callback.js'
import { deliverOnce } from './deliver.js'
import { settleAttempt } from './settle-attempt.js'
import { webhookKey } from './sign.js'

export { DEFAULT_DELIVERY_POLICY }

export interface CallbackDispatcher {
  start(): void
  /** Stops polling and waits for the tries under way. */
  stop(): Promise<void>
  /** Look for due deliveries now (call after adding one); does nothing unless started. */
  kick(): void
  /** Run until nothing is due (tests, `gantry sweep`). */
  drain(): Promise<void>
}

export interface CallbackDispatcherOptions {
  outbox: CallbackOutbox
  /** `whsec_<base64>` */
  secret: string
  allowPrivate: boolean
  policy?: Partial<DeliveryPolicy>
  log?(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void
  lookup?: LookupFn
  now?: () => number
  pollIntervalMs?: number
  concurrency?: number
}

/**
 * @example
 * const callbacks = createCallbackDispatcher({ outbox: store.callbacks, secret, allowPrivate: false })
 * callbacks.start()
 * // after a task ends and its delivery is written:
 * callbacks.kick()
 */
export function createCallbackDispatcher({
  outbox,
  secret,
  allowPrivate,
  policy: overrides,
  log: userLog = () => {},
  lookup,
  now = Date.now,
  pollIntervalMs = 1000,
  concurrency = 8,
}: CallbackDispatcherOptions): CallbackDispatcher {
  const policy = checkPolicy({ ...DEFAULT_DELIVERY_POLICY, ...overrides })
  webhookKey(secret) // a bad secret fails at start, not on the first callback
  if (!Number.isInteger(concurrency) || concurrency < 1) invalid('concurrency must be a positive integer')
  if (!(pollIntervalMs > 0)) invalid('pollIntervalMs must be positive')

  // a logger that throws must not lose the outcome of a try
  const log: NonNullable<CallbackDispatcherOptions['log']> = (level, msg, fields) => {
    try {
      userLog(level, msg, fields)
    } catch {}
  }

  const inFlight = new Map<string, Promise<void>>()
  // ids whose try ended while a scan was reading the outbox: that scan may hold a stale copy,
  // so they stay "in flight" until it ends, or the stale copy would be sent again
  let finishedDuringScan: string[] = []
  let scan: Promise<number> | undefined
  let rescan = false
  let started = false
  let stopped = false
  let poller: ReturnType<typeof setInterval> | undefined

  async function attempt(delivery: CallbackDelivery): Promise<void> {
    const result = await deliverOnce(delivery, { secret, allowPrivate, timeoutMs: policy.timeoutMs, lookup })
    const next = settleAttempt(delivery, result, now(), policy)
    const fields = { id: next.id, taskId: next.taskId, host: hostOf(next.url), attempts: next.attempts }
    if (next.status === 'stopped') log('warn', 'callback receiver answered 410 Gone; no more tries', fields)
    else if (next.status === 'failed')
      log('error', 'callback failed; giving up', { ...fields, error: next.lastError })
    else if (next.status === 'pending')
      log('warn', 'callback try failed; will retry', { ...fields, error: next.lastError })
    else log('info', 'callback delivered', fields)
    try {
      await outbox.update(next)
    } catch (err) {
      // the try is then repeated; receivers drop the duplicate by webhook-id
      log('error', 'could not record callback attempt', { ...fields, error: String(err) })
    }
  }

  function launch(delivery: CallbackDelivery) {
    const running = attempt(delivery)
      .catch((err) => log('error', 'callback attempt crashed', { id: delivery.id, error: String(err) }))
      .finally(() => {
        if (scan) finishedDuringScan.push(delivery.id)
        else inFlight.delete(delivery.id)
        kick() // a slot is free
      })
    inFlight.set(delivery.id, running)
  }

  /** One read of the outbox; returns how many tries it started. Scans never overlap. */
  function scanOnce(): Promise<number> {
    if (scan) return scan.then(scanOnce)
    scan = (async () => {
      if (inFlight.size >= concurrency) return 0
      let due: CallbackDelivery[]
      try {
        due = await outbox.due(now(), concurrency + inFlight.size)
      } catch (err) {
        log('error', 'could not read callback outbox', { error: String(err) })
        return 0
      }
      let launched = 0
      for (const delivery of due) {
        if (inFlight.size >= concurrency) break
        if (inFlight.has(delivery.id)) continue
        launch(delivery)
        launched++
      }
      return launched
    })().finally(() => {
      scan = undefined
      for (const id of finishedDuringScan) inFlight.delete(id)
      finishedDuringScan = []
      // a kick that arrived while this scan was reading may concern a delivery it did not see
      if (rescan) {
        rescan = false
        kick()
      }
    })
    return scan
  }

  function kick() {
    if (!started || stopped) return
    if (scan) rescan = true
    else void scanOnce()
  }

  return {
    start() {
      // in a cluster the leader dispatches: a node that leads again starts again
      if (started && !stopped) return
      started = true
      stopped = false
      poller = setInterval(kick, pollIntervalMs)
      poller.unref() // pending callbacks alone should not keep the process alive
      kick()
    },
    async stop() {
      stopped = true
      clearInterval(poller)
      while (scan || inFlight.size > 0) {
        await scan
        await Promise.all(inFlight.values())
      }
    },
    kick,
    async drain() {
      for (;;) {
        const launched = await scanOnce()
        if (launched === 0 && inFlight.size === 0) return
        if (inFlight.size > 0) await Promise.race(inFlight.values())
      }
    },
  }
}

function checkPolicy(policy: DeliveryPolicy): DeliveryPolicy {
  for (const [field, value] of Object.entries(policy)) {
    const least = field === 'maxAttempts' ? 1 : 0
    if (!Number.isFinite(value) || value < least) invalid(`policy.${field} must be a number >= ${least}`)
  }
  return policy
}

function invalid(message: string): never {
  throw new GantryError('VALIDATION_FAILED', `callback dispatcher: ${message}`)
}

function hostOf(url: string): string | undefined {
  // only the host goes to the logs: paths and queries often carry tokens
  try {
    return new URL(url).host
  } catch {
    return undefined
  }
}
