/**
 * A small Prometheus registry: counters and histograms with labels, rendered
 * in the text exposition format. Gauges are read at scrape time.
 */

type Labels = Record<string, string>

const renderLabels = (labels: Labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')

// label sets repeat (an ability, a status): render each once, on the hot path only look it up
const renderedLabels = new Map<string, string>()
function labelKey(labels: Labels): string {
  let raw = ''
  for (const k in labels) raw += `${k}\u0000${labels[k]}\u0000`
  let key = renderedLabels.get(raw)
  if (key === undefined) {
    key = renderLabels(labels)
    if (renderedLabels.size < 10_000) renderedLabels.set(raw, key)
  }
  return key
}

export class Counter {
  private values = new Map<string, number>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels, by = 1) {
    const key = labelKey(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const [key, v] of this.values) lines.push(`${this.name}{${key}} ${v}`)
    return lines.join('\n')
  }
}

export class Histogram {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
  ) {}
  observe(labels: Labels, value: number) {
    const key = labelKey(labels)
    let s = this.series.get(key)
    if (!s) this.series.set(key, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }))
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++
    s.sum += value
    s.count++
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const [key, s] of this.series) {
      const sep = key ? ',' : ''
      for (const [i, b] of this.buckets.entries())
        lines.push(`${this.name}_bucket{${key}${sep}le="${b}"} ${s.counts[i]}`)
      lines.push(`${this.name}_bucket{${key}${sep}le="+Inf"} ${s.count}`)
      lines.push(`${this.name}_sum{${key}} ${s.sum}`)
      lines.push(`${this.name}_count{${key}} ${s.count}`)
    }
    return lines.join('\n')
  }
}

export function renderGauge(name: string, help: string, values: [Labels, number][]): string {
  return renderValues('gauge', name, help, values)
}

/** A counter kept elsewhere (the store's), read at scrape time. */
export function renderCounter(name: string, help: string, values: [Labels, number][]): string {
  return renderValues('counter', name, help, values)
}

function renderValues(type: string, name: string, help: string, values: [Labels, number][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
  for (const [labels, v] of values) {
    const key = labelKey(labels)
    lines.push(key ? `${name}{${key}} ${v}` : `${name} ${v}`)
  }
  return lines.join('\n')
}
