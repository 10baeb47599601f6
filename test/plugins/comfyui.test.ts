import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { models, queueStatus } from '../../plugins/comfyui/index.js'
import { type FakeComfyUI, startFakeComfyUI } from '../fixtures/fake-comfyui.js'
import { eventually, ROOT, startGantry, type TestGantry, WAIT_MS, waitForTask } from '../helpers.js'

// the workflow the repository ships, given by absolute path, so the test also checks that file
const SHIPPED_WORKFLOW = join(ROOT, 'abilities/comfyui/txt2img.workflow.json')

const IMG2IMG = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
  '10': { class_type: 'LoadImage', inputs: { image: 'example.png' } },
  '11': { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a fox', clip: ['4', 1] } },
  '3': {
    class_type: 'KSampler',
    inputs: { seed: 1, model: ['4', 0], positive: ['6', 0], latent_image: ['11', 0] },
  },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'img2img', images: ['8', 0] } },
}

const BROKEN = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
  '12': { class_type: 'UltimateSDUpscale', inputs: { image: ['4', 0] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'x', images: ['12', 0] } },
}

// the same txt2img on another ComfyUI: one that runs slowly enough to watch, one whose /ws is refused
const txt2imgOn = (id: string, baseUrl: string, workflowFile: string) => `
---
kind: Executor
id: ${id}
provider: comfyui
poll: { interval: 50ms, maxDuration: 5m }
config:
  baseUrl: ${baseUrl}
  headers: { x-comfy-token: fake-token }
---
kind: Ability
id: ${id}-txt2img
executor: ${id}
input: { type: object, properties: { prompt: { type: string } } }
config:
  workflow: ${workflowFile}
  bindings: { prompt: 6.inputs.text }
`

const definitions = (baseUrl: string, workflowFile: string) => `
kind: Executor
id: comfy
provider: comfyui
maxConcurrency: 2
poll: { interval: 50ms, maxDuration: 5m }
config:
  baseUrl: ${baseUrl}
  headers: { x-comfy-token: fake-token }
  # generous: on a busy machine the fake answers slowly, and a timeout would retry with a new prompt
  timeout: 60s
---
kind: Ability
id: txt2img
executor: comfy
retry: { max: 2, backoff: 10ms }
input:
  type: object
  required: [prompt]
  properties:
    prompt: { type: string }
    seed: { type: integer }
    width: { type: integer, default: 64 }
    height: { type: integer, default: 48 }
config:
  workflow: ${workflowFile}
  bindings: { prompt: 6.inputs.text, seed: 3.inputs.seed, width: 5.inputs.width, height: 5.inputs.height }
---
kind: Ability
id: broken
executor: comfy
retry: { max: 2, backoff: 10ms }
config:
  workflow: ${JSON.stringify(BROKEN)}
---
kind: Ability
id: misbound
executor: comfy
retry: { max: 2, backoff: 10ms }
input: { type: object, properties: { prompt: { type: string } } }
config:
  workflow: ${JSON.stringify(BROKEN)}
  bindings: { prompt: 99.inputs.text }
---
kind: Ability
id: img2img
executor: comfy
input: { type: object, properties: { image: { type: string }, prompt: { type: string } } }
config:
  workflow: ${JSON.stringify(IMG2IMG)}
  bindings: { prompt: 6.inputs.text }
  images: { image: 10.inputs.image }
`

describe('comfyui provider', () => {
  // every test gets its own fake ComfyUIs and its own Gantry: a test that fails (or leaves a prompt held)
  // cannot leave a queue, a history or a held prompt behind for the next one
  let fake: FakeComfyUI
  let slow: FakeComfyUI
  let socketless: FakeComfyUI
  let g: TestGantry

  beforeEach(async () => {
    fake = await startFakeComfyUI({ runMs: 300 })
    slow = await startFakeComfyUI({ runMs: 2000 })
    socketless = await startFakeComfyUI({ runMs: 300, websocket: false })
    g = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/comfyui/index.ts') },
      files: {
        'c.yaml':
          definitions(fake.url, SHIPPED_WORKFLOW) +
          txt2imgOn('slow', slow.url, SHIPPED_WORKFLOW) +
          txt2imgOn('socketless', socketless.url, SHIPPED_WORKFLOW),
      },
    })
  })

  afterEach(async () => {
    await g?.stop()
    await fake?.close()
    await slow?.close()
    await socketless?.close()
  })

  // the plugin returns a data URL; Gantry keeps the bytes in its media store and answers its own signed link
  const bytesOf = async (url: string): Promise<Buffer> => {
    if (url.startsWith('data:')) return Buffer.from(url.split(',')[1], 'base64')
    const res = await fetch(new URL(url, g.url))
    expect(res.status).toBe(200)
    return Buffer.from(await res.arrayBuffer())
  }

  const submit = async (abilityId: string, body: Record<string, unknown> = {}) => {
    const res = await g.api('/api/ability-tasks', { body: { abilityId, ...body } })
    expect(res.status).toBe(202)
    return res.body.id as string
  }

  it('renders a prompt into a PNG, with the bound inputs in the queued workflow', async () => {
    const id = await submit('txt2img', { inputs: { prompt: 'a red fox in the snow', seed: 7 } })
    const task = await waitForTask(g, id)
    expect(task.status).toBe('succeeded')

    const queued = fake.prompts.get(task.externalId)
    expect(queued, 'externalId is the prompt_id ComfyUI knows').toBeDefined()
    expect(queued!.prompt['6'].inputs.text).toBe('a red fox in the snow')
    expect(queued!.prompt['3'].inputs.seed).toBe(7)
    expect(queued!.prompt['7'].inputs.text).toBe('blurry, low quality, watermark, text')
    expect(queued!.headers['x-comfy-token']).toBe('fake-token')

    const [image] = task.resultPayload.images
    expect(image).toMatchObject({ mimeType: 'image/png', width: 64, height: 48 })
    const meta = await sharp(await bytesOf(image.url)).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 48])
    expect(task.resultPayload.raw).toEqual({
      prompt_id: task.externalId,
      outputs: { '9': [expect.stringMatching(/^ComfyUI_\d+_\.png$/)] },
    })
  })

  it("reports the sampler's progress from ComfyUI's /ws socket while the prompt runs", async () => {
    const id = await submit('slow-txt2img', { inputs: { prompt: 'a fox, watched' } })
    const seen: { status: string; progress?: number; stage?: string }[] = []
    const task = await eventually(
      async () => {
        const { body } = await g.api(`/api/ability-tasks/${id}`)
        seen.push({ status: body.status, progress: body.progress, stage: body.stage })
        return ['succeeded', 'failed', 'canceled'].includes(body.status) ? body : undefined
      },
      WAIT_MS,
      100,
    )
    expect(task.status).toBe('succeeded')
    expect(task.resultPayload.images[0]).toMatchObject({ mimeType: 'image/png' })

    const sampling = seen.filter((s) => s.status === 'running' && s.stage === 'node 3 (KSampler)')
    const percents = sampling.map((s) => s.progress!)
    expect(percents.length, JSON.stringify(seen)).toBeGreaterThan(2)
    for (const p of percents) expect(p > 0 && p < 100 && p !== 50, `progress ${p}`).toBe(true)
    // it climbs with the sampler's steps
    expect(percents).toEqual([...percents].sort((a, b) => a - b))
    expect(new Set(percents).size).toBeGreaterThan(1)

    // the socket went out with the executor's headers and the client id the prompt was queued with
    const queued = slow.prompts.get(task.externalId)!
    const socket = slow.socketClients.find((c) => c.clientId === queued.client_id)
    expect(socket?.headers['x-comfy-token']).toBe('fake-token')
  })

  it('still finishes by polling when the /ws socket is refused', async () => {
    const task = await waitForTask(g, await submit('socketless-txt2img', { inputs: { prompt: 'no socket' } }))
    expect(task.status).toBe('succeeded')
    expect(task.resultPayload.images).toHaveLength(1)
    expect(socketless.socketClients).toEqual([])
  })

  it('fails a workflow ComfyUI rejects with VALIDATION_FAILED naming the node, without retrying', async () => {
    const before = fake.promptRequests()
    const task = await waitForTask(g, await submit('broken'))
    expect(task.status).toBe('failed')
    expect(task.errorCode).toBe('VALIDATION_FAILED')
    expect(task.errorMessage).toContain('node 12 (UltimateSDUpscale)')
    expect(task.errorMessage).toContain('Node type not found')
    expect(task.attempts).toBe(1)
    expect(fake.promptRequests() - before).toBe(1)
  })

  it('fails a binding to a node the workflow lacks before queueing anything', async () => {
    const before = fake.promptRequests()
    const task = await waitForTask(g, await submit('misbound', { inputs: { prompt: 'x' } }))
    expect(task.status).toBe('failed')
    expect(task.errorCode).toBe('VALIDATION_FAILED')
    expect(task.errorMessage).toContain('node 99')
    expect(task.attempts).toBe(1)
    expect(fake.promptRequests()).toBe(before)
  })

  it('fails with the exception ComfyUI reports when a node raises', async () => {
    fake.failWhen = (workflow) =>
      String(workflow['6']?.inputs.text).includes('explode')
        ? { nodeId: '3', exceptionType: 'torch.OutOfMemoryError', exceptionMessage: 'CUDA out of memory' }
        : undefined
    try {
      const task = await waitForTask(g, await submit('txt2img', { inputs: { prompt: 'please explode' } }))
      expect(task.status).toBe('failed')
      expect(task.errorMessage).toContain('node 3 (KSampler)')
      expect(task.errorMessage).toContain('CUDA out of memory')
      expect(task.attempts).toBe(1)
    } finally {
      fake.failWhen = undefined
    }
  })

  it("cancels a pending prompt by deleting it from the queue, never interrupting another task's prompt", async () => {
    fake.hold()
    const first = await submit('txt2img', { inputs: { prompt: 'first' } })
    const firstPrompt = await eventually(
      async () => (await g.api(`/api/ability-tasks/${first}`)).body.externalId,
    )
    await eventually(() => fake.running() === firstPrompt)

    const second = await submit('txt2img', { inputs: { prompt: 'second' } })
    const secondPrompt = await eventually(
      async () => (await g.api(`/api/ability-tasks/${second}`)).body.externalId,
    )
    expect(fake.pending()).toContain(secondPrompt)
    await eventually(
      async () => (await g.api(`/api/ability-tasks/${second}`)).body.stage === 'queued (position 1)',
    )

    const canceled = await g.api(`/api/ability-tasks/${second}/cancel`, { method: 'POST' })
    expect(canceled.body.status).toBe('canceled')
    expect(fake.deletes).toContain(secondPrompt)
    expect(fake.pending()).not.toContain(secondPrompt)
    expect(fake.interrupts).toEqual([])
    expect(fake.running()).toBe(firstPrompt)

    fake.release()
    expect((await waitForTask(g, first)).status).toBe('succeeded')
  })

  it('uploads an input image and puts its name into the LoadImage node', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#2980b9' } })
      .png()
      .toBuffer()
    const fromInput = await submit('img2img', {
      inputs: { prompt: 'in watercolor', image: `data:image/png;base64,${png.toString('base64')}` },
    })
    const fromMedia = await submit('img2img', {
      inputs: { prompt: 'in ink' },
      imageBase64: png.toString('base64'),
    })
    for (const id of [fromInput, fromMedia]) {
      const task = await waitForTask(g, id)
      expect(task.status).toBe('succeeded')
      const name = fake.prompts.get(task.externalId)!.prompt['10'].inputs.image as string
      expect(name).toMatch(/^gantry-[0-9a-f]{20}\.png$/)
      expect(fake.uploads.get(name)?.equals(png)).toBe(true)
    }
  })

  it('interrupts its own running prompt on cancel, naming it', async () => {
    fake.hold()
    try {
      const id = await submit('txt2img', { inputs: { prompt: 'long one' } })
      const promptId = await eventually(async () => (await g.api(`/api/ability-tasks/${id}`)).body.externalId)
      await eventually(() => fake.running() === promptId)
      const before = fake.interrupts.length
      const canceled = await g.api(`/api/ability-tasks/${id}/cancel`, { method: 'POST' })
      expect(canceled.body.status).toBe('canceled')
      expect(fake.interrupts.slice(before)).toEqual([{ promptId, running: promptId }])
      expect(fake.running()).toBeUndefined()
    } finally {
      fake.release()
    }
  })

  it('queues the prompt again when ComfyUI restarted and lost it', async () => {
    fake.hold()
    const id = await submit('txt2img', { inputs: { prompt: 'survives a restart' } })
    const lost = await eventually(async () => (await g.api(`/api/ability-tasks/${id}`)).body.externalId)
    await eventually(() => fake.running() === lost)
    fake.restart()
    fake.release()
    const task = await waitForTask(g, id)
    expect(task.status).toBe('succeeded')
    expect(task.attempts).toBe(2)
    expect(task.externalId).not.toBe(lost)
    expect(fake.prompts.get(task.externalId)!.prompt['6'].inputs.text).toBe('survives a restart')
  })

  it('reports queue counts and the installed models for the admin API', async () => {
    const config = { baseUrl: fake.url }
    expect(await queueStatus(config)).toEqual({ running: 0, pending: 0 })
    expect(await models(config)).toEqual({
      checkpoints: ['sd_xl_base_1.0.safetensors', 'dreamshaper_8.safetensors'],
      loras: ['detail_tweaker.safetensors'],
      vaes: ['sdxl_vae.safetensors'],
    })
  })

  it('runs the shipped abilities/comfyui/txt2img.yaml, its workflow read relative to the working directory', async () => {
    const shipped = await readFile(join(ROOT, 'abilities/comfyui/txt2img.yaml'), 'utf8')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
    expect(shipped).toContain('baseUrl: ${env:COMFYUI_URL}')
    const shippedGantry = await startGantry({
      env: { GANTRY_PLUGINS: join(ROOT, 'plugins/comfyui/index.ts') },
      // without its price, so the test user needs no credits
      files: {
        'txt2img.yaml': shipped
          // biome-ignore lint/suspicious/noTemplateCurlyInString: YAML text, not a JS template
          .replace('${env:COMFYUI_URL}', fake.url)
          .replace(/^pricing:\n( .*\n)+/m, ''),
      },
    })
    const cwd = process.cwd()
    try {
      process.chdir(ROOT)
      const res = await shippedGantry.api('/api/ability-tasks', {
        body: { abilityId: 'comfyui.txt2img', inputs: { prompt: 'a lighthouse', width: 768, height: 832 } },
      })
      expect(res.status).toBe(202)
      const task = await waitForTask(shippedGantry, res.body.id)
      expect(task.status).toBe('succeeded')
      expect(task.resultPayload.images[0]).toMatchObject({ mimeType: 'image/png', width: 768, height: 832 })
    } finally {
      process.chdir(cwd)
      await shippedGantry.stop()
    }
  })
})
