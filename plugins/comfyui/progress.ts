/**
 * Step progress from ComfyUI's `/ws` messages: each prompt this thread
 * submitted is tracked from `execution_start` to `executing` with node null,
 * and its latest `{ stage, percent, eta }` is kept for `poll`. Polls of one
 * prompt may land on any worker thread while only the submitting thread's
 * socket hears about it, so every change is also shared with the sibling
 * threads over a BroadcastChannel.
 */
import { BroadcastChannel } from 'node:worker_threads'
import type { ApiWorkflow } from './workflow.js'

export interface PromptProgress {
  stage: string
  percent: number
  /** Seconds left, guessed from the pace so far. */
  eta?: number
}

/** One `/ws` text message: `{ type, data }`. */
export interface SocketMessage {
  type: string
  data?: Record<string, unknown>
}

interface Tracked {
  classes: Record<string, string>
  done: Set<string>
  current?: string
  /** The current node's share done, from its `progress` messages. */
  fraction: number
  startedAt?: number
}

type Shared =
  | { type: 'state'; promptId: string; state: PromptProgress }
  | { type: 'forget'; promptId: string }

const MAX_ENTRIES = 1000
// a running prompt never shows 100: only the history says it is done
const MAX_RUNNING_PERCENT = 99
const ENDS = new Set(['execution_success', 'execution_error', 'execution_interrupted'])

/** The latest state of every prompt this process has heard of, whichever thread heard it. */
const latest = new Map<string, PromptProgress>()
/** This thread's trackers, told when another thread sees one of their prompts end. */
const trackers = new Set<ProgressTracker>()
let channel: BroadcastChannel | undefined

function setBounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key)
  map.set(key, value)
  // Maps iterate in insertion order: the first key is the stalest
  if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!)
}

function share(message: Shared): void {
  if (!channel) {
    channel = new BroadcastChannel('gantry:comfyui:progress')
    channel.onmessage = (event: unknown) => {
      const msg = (event as { data: Shared }).data
      if (msg.type === 'state') setBounded(latest, msg.promptId, msg.state)
      else {
        latest.delete(msg.promptId)
        for (const tracker of trackers) tracker.forget(msg.promptId)
      }
    }
    // it must not keep an idle worker alive
    channel.unref()
  }
  channel.postMessage(message)
}

/** What the socket last said about a prompt, on any thread; undefined when it said nothing. */
export function progressOf(promptId: string): PromptProgress | undefined {
  return latest.get(promptId)
}

/** Drops a prompt that ended (the history has it) or was canceled, here and on the other threads. */
export function forgetProgress(promptId: string): void {
  latest.delete(promptId)
  for (const tracker of trackers) tracker.forget(promptId)
  share({ type: 'forget', promptId })
}

/** The prompts one socket follows, turning their messages into progress. */
export class ProgressTracker {
  private readonly prompts = new Map<string, Tracked>()

  /** `onEmpty` runs whenever the last followed prompt ends. */
  constructor(private readonly onEmpty: () => void) {
    trackers.add(this)
  }

  /** Stops listening for other threads' news, when its socket is closed for good. */
  dispose(): void {
    trackers.delete(this)
    this.prompts.clear()
  }

  get size(): number {
    return this.prompts.size
  }

  track(promptId: string, workflow: ApiWorkflow): void {
    const classes = Object.fromEntries(Object.entries(workflow).map(([id, node]) => [id, node.class_type]))
    setBounded(this.prompts, promptId, { classes, done: new Set<string>(), fraction: 0 })
  }

  forget(promptId: string): void {
    if (this.prompts.delete(promptId) && this.prompts.size === 0) this.onEmpty()
  }

  /** Applies one message; those about prompts it does not follow are ignored. */
  apply(message: SocketMessage): void {
    const data = message.data ?? {}
    const promptId = typeof data.prompt_id === 'string' ? data.prompt_id : undefined
    const prompt = promptId ? this.prompts.get(promptId) : undefined
    if (!promptId || !prompt) return
    if (ENDS.has(message.type) || (message.type === 'executing' && data.node == null)) {
      forgetProgress(promptId)
      return
    }
    switch (message.type) {
      case 'execution_start':
        prompt.startedAt = Date.now()
        break
      case 'execution_cached':
        for (const node of Array.isArray(data.nodes) ? data.nodes : []) prompt.done.add(String(node))
        break
      case 'executing':
        if (prompt.current) prompt.done.add(prompt.current)
        prompt.current = String(data.node)
        prompt.fraction = 0
        break
      case 'progress': {
        const value = Number(data.value)
        const max = Number(data.max)
        if (data.node != null && String(data.node) !== prompt.current) {
          if (prompt.current) prompt.done.add(prompt.current)
          prompt.current = String(data.node)
        }
        if (max > 0 && value >= 0) prompt.fraction = Math.min(1, value / max)
        break
      }
      case 'executed':
        prompt.done.add(String(data.node))
        break
      default:
        return
    }
    const state = stateOf(prompt)
    setBounded(latest, promptId, state)
    share({ type: 'state', promptId, state })
  }
}

function stateOf(prompt: Tracked): PromptProgress {
  const total = Math.max(1, Object.keys(prompt.classes).length)
  const current = prompt.current && !prompt.done.has(prompt.current) ? prompt.fraction : 0
  const share = Math.min(1, (prompt.done.size + current) / total)
  const percent = Math.min(MAX_RUNNING_PERCENT, Math.round(share * 100))
  const node = prompt.current
  const className = node ? prompt.classes[node] : undefined
  const stage = node ? (className ? `node ${node} (${className})` : `node ${node}`) : 'running'
  const elapsed = prompt.startedAt ? (Date.now() - prompt.startedAt) / 1000 : 0
  // too early a guess swings wildly; wait for a tenth of the work
  const eta = share >= 0.1 && elapsed > 0 ? Math.round((elapsed * (1 - share)) / share) : undefined
  return eta === undefined ? { stage, percent } : { stage, percent, eta }
}
