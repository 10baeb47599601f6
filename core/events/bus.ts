import mittImport, { type Emitter } from 'mitt'
import type { GantryEvents } from './types.js'

// mitt's types describe a CommonJS default; at run time the ESM import is the function itself
const mitt = mittImport as unknown as typeof mittImport.default

export interface EventBus {
  /** Emits to every listener; a listener that throws is logged, never fatal. */
  emit<K extends keyof GantryEvents>(type: K, payload: GantryEvents[K]): void
  on<K extends keyof GantryEvents>(type: K, listener: (payload: GantryEvents[K]) => void): () => void
  /** Every event, with its type. */
  onAny(listener: (type: keyof GantryEvents, payload: unknown) => void): () => void
}

export function createEventBus(onListenerError: (type: string, err: unknown) => void = () => {}): EventBus {
  const emitter: Emitter<GantryEvents> = mitt<GantryEvents>()
  const guard =
    <A extends unknown[]>(type: string, fn: (...args: A) => unknown) =>
    (...args: A) => {
      try {
        const result = fn(...args)
        if (result instanceof Promise) result.catch((err) => onListenerError(type, err))
      } catch (err) {
        onListenerError(type, err)
      }
    }
  return {
    emit: (type, payload) => emitter.emit(type, payload),
    on(type, listener) {
      const safe = guard(type, listener)
      emitter.on(type, safe)
      return () => emitter.off(type, safe)
    },
    onAny(listener) {
      const safe = guard('*', listener as (type: keyof GantryEvents, payload: unknown) => void)
      emitter.on('*', safe)
      return () => emitter.off('*', safe)
    },
  }
}
