import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublicOnlyAgent, isForbiddenAddressError } from '../../core/net/index.js'

/** The error a request through `agent` fails with (undefined when it got through). */
async function refusal(url: string, agent = createPublicOnlyAgent()) {
  try {
    const res = await request(url, { dispatcher: agent })
    await res.body.dump()
    return undefined
  } catch (err) {
    return err
  } finally {
    await agent.close()
  }
}

describe('the public-only agent (URLs that callers name)', () => {
  let server: Server
  let port: number
  let requests = 0

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++
      res.end('internal secrets')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise((resolve) => server.close(resolve)))

  it('refuses loopback by literal address and by name, before a request is sent', async () => {
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', 'localhost']) {
      const err = await refusal(`http://${host}:${port}/`)
      expect(isForbiddenAddressError(err), host).toBe(true)
      expect(String(err)).not.toContain('internal secrets')
    }
    expect(requests).toBe(0)
  })

  it('judges the DNS answer it connects with: one private address among public ones is refused', async () => {
    const asked: string[] = []
    const agent = createPublicOnlyAgent({
      lookup(host, _opts, callback) {
        asked.push(host)
        callback(null, [
          { address: '93.184.216.34', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ])
      },
    })
    const err = await refusal(`http://files.example:${port}/`, agent)
    expect(isForbiddenAddressError(err)).toBe(true)
    // resolved once, where it connects: nothing can answer differently for a separate check
    expect(asked).toEqual(['files.example'])
    expect(requests).toBe(0)
  })

  it('passes a name that does not resolve through as a DNS error, not a refusal', async () => {
    const agent = createPublicOnlyAgent({
      lookup: (host, _opts, callback) =>
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []),
    })
    const err = await refusal(`http://nowhere.example:${port}/`, agent)
    expect(isForbiddenAddressError(err)).toBe(false)
    expect((err as { code?: string }).code).toBe('ENOTFOUND')
  })
})
