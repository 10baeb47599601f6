import type { EventBus } from '../events/bus.js'
import { Counter, Histogram, renderGauge } from './registry.js'

export interface ExecutorLoad {
  executorId: string
  running: number
  waiting: number
}

/** Gantry's metrics, fed by the event bus; executor load is read when scraped. */
export function createGantryMetrics(bus: EventBus, executorLoad: () => ExecutorLoad[]) {
  const calls = new Counter('gantry_calls_total', 'Provider calls by ability and outcome')
  const duration = new Histogram('gantry_call_duration_seconds', 'Provider call duration')
  bus.on('call.finished', (e) => {
    calls.inc({ ability: e.abilityId, status: e.status })
    duration.observe({ ability: e.abilityId }, e.durationMs / 1000)
  })
  return {
    render(): string {
      const load = executorLoad()
      return (
        [
          calls.render(),
          duration.render(),
          renderGauge(
            'gantry_executor_running',
            'Calls running per executor',
            load.map((l) => [{ executor: l.executorId }, l.running]),
          ),
          renderGauge(
            'gantry_executor_waiting',
            'Calls waiting for a slot per executor',
            load.map((l) => [{ executor: l.executorId }, l.waiting]),
          ),
          renderGauge('process_resident_memory_bytes', 'Resident memory of the server process', [
            [{}, process.memoryUsage.rss()],
          ]),
          renderGauge('nodejs_heap_used_bytes', 'V8 heap in use on the main thread', [
            [{}, process.memoryUsage().heapUsed],
          ]),
        ].join('\n\n') + '\n'
      )
    },
  }
}
