import { afterEach, describe, expect, it } from 'vitest'
import { createTicketStore } from '../../core/http/tickets.js'
import {
  type NotifyServer,
  openStream,
  receivedAtLeast,
  type StreamClient,
  sleep,
  startNotifyServer,
  token,
} from './notify-harness.js'

async function getTicket(url: string, bearer?: string) {
  const res = await fetch(url + '/ticket', {
    method: 'POST',
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  })
  return { status: res.status, body: (await res.json()) as any }
}

async function streamStatus(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/stream?${query}`, { headers })
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.body?.cancel()
  return { status: res.status, body: body as any }
}

describe('stream auth: tickets for EventSource, which cannot send headers', () => {
  let server: NotifyServer
  let client: StreamClient | undefined
  afterEach(async () => {
    client?.close()
    await server.stop()
  })

  it('a ticket opens the stream once, as the user it was issued to', async () => {
    server = await startNotifyServer()
    const issued = await getTicket(server.url, token('alice'))
    expect(issued.status).toBe(200)
    expect(issued.body).toEqual({ ticket: expect.any(String), expiresAt: expect.any(String) })
    expect(Date.parse(issued.body.expiresAt)).toBeGreaterThan(Date.now())

    client = openStream(server.url, { query: `ticket=${issued.body.ticket}` })
    await client.opened
    server.notifier.publish('wallet.points', 'bob', { n: 1 })
    server.notifier.publish('wallet.points', 'alice', { n: 2 })
    await receivedAtLeast(client, 1)
    expect(client.events.map((e) => e.id)).toEqual([2])

    const again = await streamStatus(server.url, `ticket=${issued.body.ticket}`)
    expect(again.status).toBe(401)
    expect(again.body.error.code).toBe('UNAUTHORIZED')
  })

  it('refuses an expired ticket', async () => {
    server = await startNotifyServer({ routes: { tickets: createTicketStore(50) } })
    const { body } = await getTicket(server.url, token('alice'))
    await sleep(100)
    const res = await streamStatus(server.url, `ticket=${body.ticket}`)
    expect(res.status).toBe(401)
    expect(res.body.error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/ticket/) })
  })

  it('never takes a token from the URL, even a valid one', async () => {
    server = await startNotifyServer()
    const res = await streamStatus(server.url, `token=${token('alice')}`)
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('UNAUTHORIZED')
  })

  it('refuses a stream without credentials, or with an unknown ticket or a bad token', async () => {
    server = await startNotifyServer()
    for (const [query, headers] of [
      ['', {}],
      ['ticket=made-up', {}],
      ['', { authorization: 'Bearer not.a.token' }],
      ['', { authorization: `Bearer ${token('alice')}x` }],
    ] as const) {
      const res = await streamStatus(server.url, query, headers)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } })
    }
    client = openStream(server.url)
    await expect(client.opened).rejects.toMatchObject({ code: 401 })
  })

  it('issues tickets only for a bearer token', async () => {
    server = await startNotifyServer()
    const res = await getTicket(server.url)
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('UNAUTHORIZED')
  })
})
