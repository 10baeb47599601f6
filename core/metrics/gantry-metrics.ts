import type { EventBus } from '../events/bus.js'
import type { StoreDamage } from '../model/store.js'
import { Counter, Histogram, renderCounter, renderGauge } from './registry.js'

export interface ExecutorLoad {
  executorId: string
  running: number
  waiting: number
}

/** Gantry's metrics, fed by the event bus; executor load is read when scraped. */
export function createGantryMetrics(
  bus: EventBus,
  executorLoad: () => ExecutorLoad[],
  storeDamage: () => StoreDamage | undefined = () => undefined,
) {
  const calls = new Counter('gantry_calls_total', 'Provider calls by ability and outcome')
  const duration = new Histogram('gantry_call_duration_seconds', 'Provider call duration')
  bus.on('call.finished', (e) => {
    calls.inc({ ability: e.abilityId, status: e.status })
    duration.observe({ ability: e.abilityId }, e.durationMs / 1000)
  })
  return {
    render(): string {
      const load = executorLoad()
      const damage = storeDamage()
      const quarantined = new Map<string, number>()
      for (const q of damage?.quarantined ?? [])
        quarantined.set(q.collection, (quarantined.get(q.collection) ?? 0) + 1)
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
          renderCounter(
            'gantry_store_unreadable_lines_total',
            'Whole journal and log lines this start could not read, skipped',
            [[{}, damage?.unreadableLines ?? 0]],
          ),
          renderCounter(
            'gantry_store_quarantined_records_total',
            'Stored records this start could not use, set aside, by collection',
            [...quarantined].map(([collection, n]) => [{ collection }, n]),
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
