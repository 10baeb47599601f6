/**
 * A fake REST platform on 127.0.0.1 for the `http` provider's tests: a sync
 * endpoint, a multipart upload, jobs that are submitted, polled
 * (queued -> processing -> done) and canceled, and endpoints that answer
 * 400, 500 and 429 the way real platforms do. Every request is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SeenRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: IncomingMessage['headers']
  json?: any
  /** Multipart fields: text values, or `{filename, type, size, bytes}` for files. */
  form?: Record<string, string | { filename: string; type: string; size: number; bytes: Buffer }>
  at: number
}

interface Job {
  id: string
  steps: number
  polls: number
  finished: boolean
  canceled: boolean
  served: string[]
}

export interface FakePlatform {
  url: string
  key: string
  requests: SeenRequest[]
  jobs: Map<string, Job>
  seen(path: string): SeenRequest[]
  /** Lets a long job end at its next poll. */
  finish(jobId: string): void
  close(): Promise<void>
}

/** A 1x1 PNG, to upload and to serve. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)

export async function fakePlatform(key: string): Promise<FakePlatform> {
  const requests: SeenRequest[] = []
  const jobs = new Map<string, Job>()
  const hits = new Map<string, number>()
  let base = ''

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  /** Answers `first` on the first request to a path, then `then`. */
  const once = (path: string) => {
    const n = (hits.get(path) ?? 0) + 1
    hits.set(path, n)
    return n === 1
  }

  function jobAnswer(job: Job) {
    job.polls++
    let data: Record<string, unknown>
    if (job.canceled) data = { status: 'canceled', error: { message: 'canceled by user' } }
    else if (job.polls === 1) data = { status: 'queued', progress: 0 }
    else if (job.finished || job.polls > job.steps + 1) {
      data = { status: 'done', progress: 1, result: { images: [{ url: `${base}/out/${job.id}.png` }] } }
    } else {
      const done = (job.polls - 1) / (job.steps + 1)
      data = { status: 'processing', progress: Math.min(done, 0.9), stage: 'rendering', eta_seconds: 7 }
    }
    job.served.push(data.status as string)
    return { code: 0, data }
  }

  async function route(req: IncomingMessage, res: ServerResponse, seen: SeenRequest) {
    const { method, path } = seen
    // the CDN side: source files to upload, and results, which Gantry copies into its media store
    if (path === '/files/source.png' || path.startsWith('/out/')) {
      res.writeHead(200, { 'content-type': 'image/png' })
      // each result its own bytes, as real results are
      return res.end(path === '/files/source.png' ? PNG : Buffer.concat([PNG, Buffer.from(path)]))
    }
    if (req.headers.authorization !== `Bearer ${key}`) {
      return send(res, 401, { error: { message: 'missing or wrong api key' } })
    }
    if (method === 'POST' && path === '/v1/clean') {
      const out = `${base}/out`
      return send(res, 200, {
        code: 0,
        data: {
          images: [
            { image_url: `${out}/a.png`, width: 512, height: 512 },
            { imageUrl: `${out}/b.webp`, mime_type: 'image/webp' },
            { url: `${out}/c.png` },
            `${out}/d.png`,
          ],
          text: 'cleaned',
          duration: 3,
        },
        usage: { completion_tokens: 12 },
      })
    }
    if (method === 'POST' && path === '/v1/upload') {
      return send(res, 200, { data: { images: [`${base}/out/uploaded.png`] } })
    }
    if (method === 'POST' && path === '/v1/reject') {
      // a careless platform that echoes the key it was given
      const given = String(req.headers.authorization).replace('Bearer ', '')
      return send(res, 400, { error: { message: 'strength must be between 0 and 1', key: given } })
    }
    if (method === 'POST' && path === '/v1/flaky') {
      if (once(path)) return send(res, 500, { error: { message: 'upstream overloaded' } })
      return send(res, 200, { data: { text: 'second time lucky' } })
    }
    if (method === 'POST' && path === '/v1/busy') {
      if (once(path)) return send(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' })
      return send(res, 200, { data: { text: 'served after waiting' } })
    }
    if (method === 'POST' && path === '/v1/tasks') {
      const id = `job-${jobs.size + 1}-${Math.random().toString(36).slice(2, 8)}`
      jobs.set(id, {
        id,
        steps: Number(seen.json?.steps ?? 3),
        polls: 0,
        finished: false,
        canceled: false,
        served: [],
      })
      return send(res, 200, { code: 0, data: { task_id: id, status: 'queued' } })
    }
    const task = /^\/v1\/tasks\/([^/]+)(\/cancel)?$/.exec(path)
    const job = task ? jobs.get(decodeURIComponent(task[1])) : undefined
    if (task && !job) return send(res, 404, { error: { message: 'no such task' } })
    if (job && method === 'GET' && !task?.[2]) return send(res, 200, jobAnswer(job))
    if (job && method === 'POST' && task?.[2]) {
      job.canceled = true
      return send(res, 200, { code: 0, data: { status: 'canceled' } })
    }
    send(res, 404, { error: { message: `no route ${method} ${path}` } })
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      at: Date.now(),
    }
    const type = req.headers['content-type'] ?? ''
    if (type.includes('application/json')) seen.json = JSON.parse(body.toString('utf8'))
    if (type.includes('multipart/form-data')) seen.form = await parseForm(body, type)
    requests.push(seen)
    await route(req, res, seen)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: base,
    key,
    requests,
    jobs,
    seen: (path) => requests.filter((r) => r.path === path),
    finish: (jobId) => {
      const job = jobs.get(jobId)
      if (job) job.finished = true
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Node's own multipart parser, the one behind `Response.formData()`. */
async function parseForm(body: Buffer, type: string): Promise<NonNullable<SeenRequest['form']>> {
  const form = await new Response(body, { headers: { 'content-type': type } }).formData()
  const fields: NonNullable<SeenRequest['form']> = {}
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') fields[name] = value
    else {
      const bytes = Buffer.from(await value.arrayBuffer())
      fields[name] = { filename: value.name, type: value.type, size: bytes.length, bytes }
    }
  }
  return fields
}
