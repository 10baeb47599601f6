/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are YAML text with workflow templates */
/** Jobs stored before step results moved to their tasks still read, and show the same outputs. */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { WorkflowJob } from '../../core/model/job.js'
import type { AbilityTask } from '../../core/model/task.js'
import { createLowdbStore } from '../../core/store/lowdb/index.js'
import { viewJob } from '../../core/workflows/job-view.js'
import { stepTaskId, upgradeJob } from '../../core/workflows/step-output.js'
import { eventually, startGantry, type TestGantry } from '../helpers.js'

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

describe('a job stored in the old shape, running when the server stopped', () => {
  it('is picked up after the restart in the new shape and completes with the same outputs', async () => {
    const files = {
      'defs.yaml': `
kind: Executor
id: m
provider: mock
---
kind: Ability
id: echo
name: Echo
executor: m
---
kind: Workflow
id: fan
name: Fan
input: { type: object, properties: { items: { type: array } } }
steps:
  - { id: each, ability: echo, forEach: "\${{ params.items }}", with: { text: "\${{ item }}" } }
  - { id: count, ability: echo, with: { text: "\${{ steps.each.output[2].texts[0] }}" } }
`,
    }
    let g = await startGantry({ files })
    try {
      const res = await g.api('/api/workflows/fan/jobs', { body: { params: { items: ['a', 'b', 'c'] } } })
      const first = await waitEnded(g, res.body.jobId)
      expect(first.status).toBe('completed')
      const root = g.root
      await g.stop({ keep: true })

      // the job as the previous version stored it mid-way: item 0 settled, items 1 and 2 not yet
      const store = createLowdbStore(join(root, 'data'))
      await store.open()
      const job = (await store.jobs.get(res.body.jobId))!
      const ids = (step: string, n: number) =>
        Array.from({ length: n }, (_, i) => stepTaskId(job.id, step, i, 0))
      Object.assign(job, { status: 'running', progress: 10, output: undefined, finishedAt: undefined })
      job.steps = {
        each: {
          status: 'running',
          taskIds: ids('each', 3),
          results: [first.steps[0].output[0], null, null],
          errors: [null, null, null],
        },
        count: { status: 'pending', taskIds: [], results: [], errors: [] },
      } as unknown as WorkflowJob['steps']
      await store.jobs.save(job)
      await store.close()

      g = await startGantry({ root })
      const done = await waitEnded(g, res.body.jobId)
      expect(done.status).toBe('completed')
      expect(done.steps).toEqual(first.steps)
      expect(done.tasks).toEqual(first.tasks)
    } finally {
      await g.stop()
    }
  }, 60_000)
})

function waitEnded(g: TestGantry, id: string) {
  return eventually(async () => {
    const body = (await g.api(`/api/workflow-jobs/${id}`)).body
    return ['completed', 'failed', 'canceled'].includes(body.status) ? body : undefined
  }, 30_000)
}
