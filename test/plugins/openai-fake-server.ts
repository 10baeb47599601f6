/**
 * A local stand-in for the OpenAI chat completions API: it checks requests the
 * way the real one does (path, bearer key, model, messages) and answers with
 * the real success and error shapes. Answers are scripted per model, so each
 * ability of a test talks to its own queue; an unscripted call echoes the
 * last user message.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ScriptedAnswer {
  status?: number
  headers?: Record<string, string>
  /** The assistant's text, for a 200. */
  content?: string
  completionTokens?: number
  /** Hold the answer this long, to play a slow model. */
  delayMs?: number
  /** OpenAI's error object, for a non-200. */
  error?: { message: string; type: string; code: string | null }
}

export interface SeenRequest {
  path: string
  authorization?: string
  organization?: string
  body: any
}

export interface FakeOpenAI {
  /** What to pass as `baseUrl`. */
  baseUrl: string
  requests: SeenRequest[]
  requestsFor(model: string): SeenRequest[]
  script(model: string, ...answers: ScriptedAnswer[]): void
  close(): Promise<void>
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool'])
const words = (text: string) => text.split(/\s+/).filter(Boolean).length

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-request-id': `req_${Date.now()}`,
    ...headers,
  })
  res.end(JSON.stringify(body))
}

const apiError = (message: string, type: string, code: string | null, param: string | null = null) => ({
  error: { message, type, param, code },
})

function completion(model: string, messages: { content: string }[], answer: ScriptedAnswer) {
  const content = answer.content ?? messages[messages.length - 1].content
  const promptTokens = messages.reduce((n, m) => n + words(m.content) + 4, 0)
  const completionTokens = answer.completionTokens ?? words(content)
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2, 14)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
    system_fingerprint: 'fp_fake',
  }
}

/** The checks the real API makes before it looks at the model's work; an error body, or undefined. */
function rejectionOf(req: IncomingMessage, body: any, key: string): [number, unknown] | undefined {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions')
    return [404, apiError(`Invalid URL (${req.method} ${req.url})`, 'invalid_request_error', null)]
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
  if (!bearer) return [401, apiError("You didn't provide an API key.", 'invalid_request_error', null)]
  // the real API shows a masked key; this one echoes it whole, to prove Gantry hides it
  if (bearer !== key)
    return [
      401,
      apiError(`Incorrect API key provided: ${bearer}.`, 'invalid_request_error', 'invalid_api_key'),
    ]
  if (typeof body?.model !== 'string')
    return [400, apiError('you must provide a model parameter', 'invalid_request_error', null, 'model')]
  const messages = body.messages
  const valid = Array.isArray(messages) && messages.length > 0
  if (!valid || !messages.every((m: any) => ROLES.has(m?.role) && typeof m?.content === 'string'))
    return [400, apiError("Invalid value for 'messages'.", 'invalid_request_error', null, 'messages')]
  return undefined
}

export async function startFakeOpenAI(key: string): Promise<FakeOpenAI> {
  const requests: SeenRequest[] = []
  const scripts = new Map<string, ScriptedAnswer[]>()
  const server = createServer(async (req, res) => {
    let text = ''
    for await (const chunk of req) text += chunk
    let body: any
    try {
      body = JSON.parse(text)
    } catch {
      return send(
        res,
        400,
        apiError('We could not parse the JSON body of your request.', 'invalid_request_error', null),
      )
    }
    requests.push({
      path: req.url ?? '',
      authorization: req.headers.authorization,
      organization: req.headers['openai-organization'] as string | undefined,
      body,
    })
    const rejection = rejectionOf(req, body, key)
    if (rejection) return send(res, ...rejection)
    const answer = scripts.get(body.model)?.shift() ?? {}
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs))
    if (answer.error)
      return send(res, answer.status ?? 500, { error: { param: null, ...answer.error } }, answer.headers)
    send(res, answer.status ?? 200, completion(body.model, body.messages, answer), answer.headers)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    requestsFor: (model) => requests.filter((r) => r.body?.model === model),
    script: (model, ...answers) => scripts.set(model, [...(scripts.get(model) ?? []), ...answers]),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
