/**
 * What several Gantry nodes sharing one store coordinate through. Only the
 * PostgreSQL store has it; the embedded store serves one process.
 */
import type { NotifyEvent } from './notify-event.js'
import type { AbilityTask } from './task.js'

/** How many ready tasks of one executor a node asks for. */
export interface ClaimWant {
  executorId: string
  /** The executor's limit, counted across every node. */
  maxConcurrency: number
  /** At most this many (the node's own free slots). */
  count: number
}

export interface TaskQueue {
  /**
   * Claims ready tasks (queued, `runAfter` passed), by priority then first-in
   * first-out, each as `running` with its next attempt number and a lease held
   * by this node; never more than an executor's `maxConcurrency` leases at
   * once across the cluster.
   */
  claim(wants: ClaimWant[], now: number): Promise<AbilityTask[]>
  /** Drops leases nobody renewed in time; returns their tasks that are still running, for recovery. */
  takeExpired(): Promise<AbilityTask[]>
  /** Queued tasks per executor (retries waiting for their turn included). */
  depth(): Promise<Map<string, number>>
}

/** Leases of sync calls: the same count per executor as claimed tasks. */
export interface SlotLeases {
  /** A lease for one call, or undefined when the executor is at its limit cluster-wide. */
  take(executorId: string, maxConcurrency: number): Promise<string | undefined>
  give(slotId: string): Promise<void>
  /** Live leases per executor, across the cluster. */
  counts(): Promise<Map<string, number>>
}

/** The client events' replay log, one for the cluster; ids increase in commit order. */
export interface SharedEventLog {
  /** Numbers and stores events in one write, then tells every node (an `events` signal). */
  append(events: Omit<NotifyEvent, 'id'>[]): Promise<NotifyEvent[]>
  /** Events with an id above `lastId`, oldest first. */
  after(lastId: number, limit: number): Promise<NotifyEvent[]>
  /** The newest id, 0 when empty. */
  lastId(): Promise<number>
  /** Retention: drops events published before `at` (epoch ms); returns how many. */
  removeBefore(at: number): Promise<number>
}

/** What one node tells every node (itself included). */
export type ClusterSignal =
  | { kind: 'events'; lastId: number }
  | { kind: 'cancel'; taskId: string }
  | { kind: 'tasks' }
  | { kind: 'outbox' }

export interface ClusterHandlers {
  onSignal(signal: ClusterSignal): void
  /** This node became the leader (runs sweeps and callbacks), or stopped being it. */
  onLeadership(leading: boolean): void
}

export interface ClusterCoordination {
  /** This process; a restart is a new node. */
  readonly nodeId: string
  /** A lease not renewed for this long is lost. */
  readonly leaseMs: number
  readonly queue: TaskQueue
  readonly slots: SlotLeases
  readonly events: SharedEventLog
  /** Renews every lease this node holds (and says it is alive); returns the ids of the tasks it still holds. */
  renew(): Promise<Set<string>>
  /** Nodes that renewed within a lease. */
  liveNodes(): Promise<Set<string>>
  signal(signal: ClusterSignal): Promise<void>
  /** Opens the listening connection and starts competing for leadership. */
  start(handlers: ClusterHandlers): Promise<void>
  /** Gives up leadership, drops this node's leases and closes the listening connection. */
  stop(): Promise<void>
  /** Runs `work` holding a cluster-wide lock on `key` (one holder at a time). */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>
  /**
   * The cluster's value of a generated secret: the first node to ask stores its
   * `proposed` value, and every node gets that one (tokens, signatures and media
   * links made by one node then hold on all).
   */
  sharedSecret(name: string, proposed: string): Promise<string>
  /** Reclaims the dead rows of churned tables (the leader's duty); returns the tables it vacuumed. */
  vacuum(): Promise<string[]>
}
