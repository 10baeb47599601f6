/** Jobs stored before step results moved to their tasks still read, and show the same outputs. */
import { describe, expect, it } from 'vitest'
import type { AbilityTask } from '../../core/tasks/types.js'
import { viewJob } from '../../core/workflows/job-view.js'
import { stepTaskId, upgradeJob } from '../../core/workflows/step-output.js'
import type { WorkflowJob } from '../../core/workflows/types.js'

const task = (id: string, status: AbilityTask['status'], text?: string) =>
  ({
    id,
    status,
    progress: 100,
    ...(text ? { resultPayload: { texts: [text] } } : { errorCode: 'PROVIDER_ERROR', errorMessage: 'no' }),
  }) as unknown as AbilityTask

describe('a job in the shape stored before (taskIds, results and output on each step)', () => {
  // item 0 succeeded in round 0 and was kept by a retry; item 1 ran again in round 1
  const kept = stepTaskId('j1', 'each', 0, 0)
  const rerun = stepTaskId('j1', 'each', 1, 1)
  const legacy = () =>
    ({
      id: 'j1',
      seq: 1,
      workflowId: 'w',
      userId: 'alice',
      params: {},
      status: 'running',
      progress: 50,
      plan: {
        steps: [
          {
            id: 'each',
            ability: 'echo',
            with: {},
            needs: [],
            forEach: [1, 2],
            continueOnError: false,
            weight: 1,
          },
        ],
      },
      steps: {
        each: {
          status: 'succeeded',
          round: 1,
          taskIds: [kept, rerun],
          results: [{ texts: ['a'] }, { texts: ['b'] }],
          errors: [null, null],
          output: [{ texts: ['a'] }, { texts: ['b'] }],
        },
      },
      consumed: false,
      createdAt: 1,
    }) as unknown as WorkflowJob

  it('is read in the new shape: one character per item, the rounds kept, settled', () => {
    expect(upgradeJob(legacy()).steps.each).toEqual({
      status: 'succeeded',
      round: 1,
      items: 'ss',
      keptRounds: { 0: 0 },
      settled: true,
    })
  })

  it('shows the same step output and tasks, read from the tasks', () => {
    const view = viewJob(legacy(), [task(kept, 'succeeded', 'a'), task(rerun, 'succeeded', 'b')])
    expect(view.steps[0].output).toEqual([{ texts: ['a'] }, { texts: ['b'] }])
    expect(view.tasks.map((t) => t.taskId)).toEqual([kept, rerun])
  })
})
