/** What both notifiers share: the subscribers an event goes to, and the bus connections. */
import type { EventBus } from '../events/bus.js'
import type { NotifyEvent } from '../model/notify-event.js'
import { mapBusToNotifications } from './bus-mapping.js'

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void
type Publish = (type: string, userId: string, payload: unknown) => unknown

export function createFanOut(log: Log) {
  const listeners = new Set<(e: NotifyEvent) => void>()
  const detachers = new Set<() => void>()
  return {
    /** Hands an event to every subscriber; one that throws does not stop the others. */
    deliver(e: NotifyEvent) {
      for (const listener of listeners) {
        try {
          listener(e)
        } catch (err) {
          log('error', 'notify: a subscriber threw', { id: e.id, err: String(err) })
        }
      }
    },
    subscribe(listener: (e: NotifyEvent) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** Connects the bus to `publish`; returns its detach. */
    attach(bus: EventBus, publish: Publish, progressIntervalMs: number) {
      const detach = mapBusToNotifications(bus, publish, progressIntervalMs)
      detachers.add(detach)
      return function detachNotifier() {
        detachers.delete(detach)
        detach()
      }
    },
    detachAll() {
      for (const detach of detachers) detach()
      detachers.clear()
    },
    size: () => listeners.size,
  }
}
