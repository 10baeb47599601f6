/**
 * A binary heap ordered by priority (higher first), then arrival (earlier
 * first), so equal priorities stay first-in first-out.
 */
export class PriorityQueue<T> {
  private heap: { priority: number; seq: number; value: T }[] = []
  private seq = 0

  get size(): number {
    return this.heap.length
  }

  push(value: T, priority = 0): void {
    this.heap.push({ priority, seq: this.seq++, value })
    this.up(this.heap.length - 1)
  }

  shift(): T | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (this.heap.length > 0 && last) {
      this.heap[0] = last
      this.down(0)
    }
    return top?.value
  }

  /** Removes the first entry for which `match` holds. */
  remove(match: (value: T) => boolean): boolean {
    const i = this.heap.findIndex((e) => match(e.value))
    if (i === -1) return false
    const last = this.heap.pop()!
    if (i < this.heap.length) {
      this.heap[i] = last
      this.down(i)
      this.up(i)
    }
    return true
  }

  private before(a: number, b: number) {
    const x = this.heap[a]
    const y = this.heap[b]
    return x.priority !== y.priority ? x.priority > y.priority : x.seq < y.seq
  }

  private up(i: number) {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(i, parent)) return
      ;[this.heap[i], this.heap[parent]] = [this.heap[parent], this.heap[i]]
      i = parent
    }
  }

  private down(i: number) {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let best = i
      if (l < this.heap.length && this.before(l, best)) best = l
      if (r < this.heap.length && this.before(r, best)) best = r
      if (best === i) return
      ;[this.heap[i], this.heap[best]] = [this.heap[best], this.heap[i]]
      i = best
    }
  }
}
