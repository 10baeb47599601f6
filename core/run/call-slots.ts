/**
 * Which worker thread runs each call, without a message per call: the main
 * thread gives a call a slot in a shared table and the worker that picks it
 * up writes its thread id there. Only a timeout or a crash reads it.
 */
export class CallSlots {
  readonly buffer: SharedArrayBuffer
  private readonly table: Int32Array
  private readonly free: number[]

  constructor(size = 1 << 16) {
    this.buffer = new SharedArrayBuffer(size * Int32Array.BYTES_PER_ELEMENT)
    this.table = new Int32Array(this.buffer)
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i)
  }

  /** A free slot, or -1 when every slot is taken (the call then runs untracked). */
  take(): number {
    return this.free.pop() ?? -1
  }

  /** The thread running the call, once a worker has picked it up. */
  threadOf(slot: number): number | undefined {
    if (slot < 0) return undefined
    return Atomics.load(this.table, slot) || undefined
  }

  /** Only once the pool has settled the call, so no worker can still write to the slot. */
  release(slot: number): void {
    if (slot < 0) return
    Atomics.store(this.table, slot, 0)
    this.free.push(slot)
  }
}
