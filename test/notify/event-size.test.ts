/**
 * Events of tasks and jobs with large inputs and results carry a summary and
 * a link to the whole, live and replayed: a stream's bytes do not grow with
 * what the tasks hold (issue 12, item 9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startGantry, type TestGantry, waitForTask } from '../helpers.js'
import { openStream } from './notify-harness.js'

const DEFS = `kind: Executor
id: m
provider: mock
---
kind: Ability
id: big
name: Big
executor: m
config: { delayMs: 200, progressSteps: 2 }
---
kind: Workflow
id: big-flow
name: Big flow
input: { type: object, properties: { text: { type: string } } }
steps:
  - id: first
    ability: big
    with: { text: "\${{ params.text }}" }
  - id: second
    ability: big
    needs: [first]
    with: { text: "\${{ steps.first.output.texts[0] }}" }
`

const MB = 1024 * 1024
// a summary is a few hundred bytes; a frame holding the input would be over a megabyte
const MAX_FRAME_BYTES = 2048

interface Frame {
  id: number
  event: string
  bytes: number
  payload: Record<string, unknown>
}

/** Reads the raw SSE text of a stream until `done` says so; every frame with its size in bytes. */
async function readFrames(
  url: string,
  token: string,
  lastEventId: number,
  done: (frames: Frame[]) => boolean,
): Promise<Frame[]> {
  const res = await fetch(`${url}/api/notify/v1/stream`, {
    headers: { authorization: `Bearer ${token}`, 'last-event-id': String(lastEventId) },
  })
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const frames: Frame[] = []
  let text = ''
  try {
    while (!done(frames)) {
      const { value, done: ended } = await reader.read()
      if (ended) break
      text += decoder.decode(value, { stream: true })
      let end = text.indexOf('\n\n')
      while (end !== -1) {
        const raw = text.slice(0, end + 2)
        text = text.slice(end + 2)
        const id = /^id: (\d+)$/m.exec(raw)?.[1]
        const data = /^data: (.*)$/m.exec(raw)?.[1]
        if (id && data) {
          const event = /^event: (.*)$/m.exec(raw)![1]
          frames.push({
            id: Number(id),
            event,
            bytes: Buffer.byteLength(raw),
            payload: JSON.parse(data).payload,
          })
        }
        end = text.indexOf('\n\n')
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return frames
}

describe('events of tasks with large inputs and results', () => {
  let g: TestGantry
  beforeAll(async () => {
    g = await startGantry({ files: { 'defs.yaml': DEFS } })
  })
  afterAll(() => g.stop())

  it('carry a small summary and a link to the whole task, live and replayed', async () => {
    const zoe = g.token('zoe')
    const live = openStream(`${g.url}/api/notify/v1`, { token: zoe })
    await live.opened
    // prose, not base64: it stays in the task rather than going to the media store
    const prompt = 'a long prompt, '.repeat(MB / 16)
    const task = await g.api('/api/ability-tasks', {
      body: { abilityId: 'big', inputs: { prompt } },
      token: zoe,
    })
    expect(task.status).toBe(202)
    await waitForTask(g, task.body.id, undefined, 10_000, zoe)
    const mine = await eventually(() => {
      const events = live.events.filter((e) => e.type === 'ability-task.status')
      return events.some((e) => e.payload.status === 'succeeded') ? events : undefined
    })
    live.close()
    expect(mine.map((e) => e.payload.status)).toContain('running')

    // every event names the task, its ability, executor, status, log and time, and links to it
    for (const e of mine) {
      expect(e.payload).toMatchObject({
        id: task.body.id,
        taskId: task.body.id,
        abilityId: 'big',
        executorId: 'm',
        status: expect.any(String),
        updatedAt: expect.any(String),
        href: `/api/ability-tasks/${task.body.id}`,
      })
      expect(e.payload).toHaveProperty('logId')
      expect(e.payload).not.toHaveProperty('inputs')
      expect(e.payload).not.toHaveProperty('resultPayload')
      expect(e.payload).not.toHaveProperty('metadata')
    }
    const ended = mine.at(-1)!.payload
    expect(ended.logId).toEqual(expect.any(String))

    // the link gives the whole task
    const whole = await g.api(ended.href, { token: zoe })
    expect(whole.status).toBe(200)
    expect(whole.body.inputs.prompt).toBe(prompt)
    expect(JSON.stringify(whole.body.resultPayload).length).toBeGreaterThan(MB)

    // a replay from the start sends the same small frames, not the task
    const lastId = Math.max(...mine.map((e) => e.id))
    const replayed = await readFrames(g.url, zoe, 0, (frames) => frames.some((f) => f.id >= lastId))
    const taskFrames = replayed.filter((f) => f.event === 'ability-task.status')
    expect(taskFrames.length).toBe(mine.length)
    for (const f of replayed) expect(f.bytes).toBeLessThan(MAX_FRAME_BYTES)
    expect(replayed.reduce((sum, f) => sum + f.bytes, 0)).toBeLessThan(replayed.length * MAX_FRAME_BYTES)
  })

  it("carry a workflow job's summary, with no params or outputs, and a link to the job", async () => {
    const amy = g.token('amy')
    const text = 'a long text, '.repeat(MB / 16)
    const started = await g.api('/api/workflows/big-flow/jobs', { body: { params: { text } }, token: amy })
    expect(started.status).toBeLessThan(300)
    const jobId = started.body.jobId
    const frames = await readFrames(g.url, amy, 0, (all) =>
      all.some((f) => f.event === 'workflow-job.status' && f.payload.status === 'completed'),
    )
    const jobFrames = frames.filter((f) => f.event === 'workflow-job.status')
    expect(jobFrames.length).toBeGreaterThan(1)
    for (const f of frames) expect(f.bytes).toBeLessThan(MAX_FRAME_BYTES)
    const done = jobFrames.at(-1)!.payload
    expect(done).toMatchObject({
      id: jobId,
      jobId,
      workflowId: 'big-flow',
      status: 'completed',
      progress: 100,
      steps: [
        { id: 'first', status: 'succeeded' },
        { id: 'second', status: 'succeeded' },
      ],
      href: `/api/workflow-jobs/${jobId}`,
    })
    expect(done).not.toHaveProperty('output')
    expect(done).not.toHaveProperty('params')

    const whole = await g.api(String(done.href), { token: amy })
    expect(whole.status).toBe(200)
    expect(whole.body.params.text).toBe(text)
  })
})
