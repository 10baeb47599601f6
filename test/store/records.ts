/** Store records for the store tests: a task with what every test leaves as is. */
import type { AbilityTask } from '../../core/model/task.js'

/** A queued task of alice's on the `render` ability; `over` changes what a test is about. */
export const aTask = (id: string, over: Partial<AbilityTask> = {}): AbilityTask => ({
  id,
  seq: 0,
  abilityId: 'render',
  executorId: 'mock',
  userId: 'alice',
  status: 'queued',
  priority: 0,
  progress: 0,
  attempts: 0,
  payload: { inputs: { prompt: id } },
  createdAt: Date.now(),
  ...over,
})
