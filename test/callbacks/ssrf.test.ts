import { afterEach, describe, expect, it } from 'vitest'
import { deliverOnce } from '../../core/callbacks/deliver.js'
import { assertCallbackAllowed, resolveCallbackTarget } from '../../core/callbacks/ssrf.js'
import type { LookupFn } from '../../core/model/callback.js'
import { isForbiddenAddress } from '../../core/net/forbidden-address.js'
import { pendingDelivery, type Receiver, SECRET, startReceiver } from './helpers.js'

/** DNS as a fixed table, so no test depends on (or reaches) the outside world. */
const dnsTable =
  (table: Record<string, string[]>): LookupFn =>
  async (host) => {
    const addresses = table[host]
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }

const lookup = dnsTable({
  'hooks.example': ['93.184.216.34'],
  'v6.example': ['2606:4700::1'],
  'rebind.example': ['127.0.0.1'],
  'mixed.example': ['93.184.216.34', '10.0.0.5'],
  'metadata.example': ['169.254.169.254'],
})

describe('callback URL guard', () => {
  it.each([
    'http://127.0.0.1/',
    'http://10.1.2.3/',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
    'http://2130706433/', // 127.0.0.1 as one number
    'http://0x7f.1/',
    'http://[fd00::1]:8080/',
    'http://[64:ff9b::a9fe:a9fe]/', // NAT64 of 169.254.169.254
    'http://rebind.example/hook', // a public-looking name that resolves to loopback
    'http://mixed.example/', // one private answer among public ones is enough
    'https://metadata.example/',
  ])('refuses %s', async (url) => {
    await expect(resolveCallbackTarget(url, { allowPrivate: false, lookup })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      message: expect.stringMatching(/private, local or reserved/),
    })
  })

  it.each([
    ['ftp://example.com/', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['https://user:pass@hooks.example/', /credentials/],
    ['not a url', /not a valid URL/],
    ['https://nowhere.example/', /does not resolve/],
  ])('refuses %s', async (url, message) => {
    await expect(resolveCallbackTarget(url, { allowPrivate: false, lookup })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(message),
    })
  })

  it('refuses localhost at accept time, using real DNS', async () => {
    await expect(assertCallbackAllowed('http://localhost:9/hook', false)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    await expect(assertCallbackAllowed('http://localhost:9/hook', true)).resolves.toBeUndefined()
  })

  it('accepts public hosts and returns the address to connect to', async () => {
    const v4 = await resolveCallbackTarget('https://hooks.example/cb?token=1', {
      allowPrivate: false,
      lookup,
    })
    expect(v4).toMatchObject({ address: '93.184.216.34', family: 4 })
    expect(v4.url.href).toBe('https://hooks.example/cb?token=1')
    const v6 = await resolveCallbackTarget('https://v6.example/', { allowPrivate: false, lookup })
    expect(v6).toMatchObject({ address: '2606:4700::1', family: 6 })
    const literal = await resolveCallbackTarget('http://[2606:4700::1]:8443/', { allowPrivate: false })
    expect(literal).toMatchObject({ address: '2606:4700::1', family: 6 })
  })

  it('allows private targets when told to', async () => {
    await expect(resolveCallbackTarget('http://127.0.0.1:1/', { allowPrivate: true })).resolves.toMatchObject(
      {
        address: '127.0.0.1',
      },
    )
  })
})

describe('isForbiddenAddress', () => {
  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    'allows public %s',
    (ip) => expect(isForbiddenAddress(ip)).toBe(false),
  )

  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '::1',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    'fc00::1',
    'fd12:3456::1',
    '169.254.169.254',
    'fe80::1',
    'fe80::1%eth0',
    '0.0.0.0',
    '0.1.2.3',
    '::',
    '100.64.0.1',
    '100.127.255.255',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::10.0.0.1',
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    '2001:db8::1',
    'localhost',
    '127.1',
    '',
  ])('forbids %s', (ip) => expect(isForbiddenAddress(ip)).toBe(true))

  it('does not over-match neighbours of forbidden ranges', () => {
    for (const ip of [
      '172.15.255.255',
      '172.32.0.1',
      '100.63.255.255',
      '100.128.0.1',
      '11.0.0.1',
      '223.255.255.255',
    ]) {
      expect(isForbiddenAddress(ip), ip).toBe(false)
    }
  })
})

describe('delivering to the checked address', () => {
  let receiver: Receiver
  afterEach(() => receiver?.close())

  it('connects to the address the check approved, keeping the host name in Host', async () => {
    receiver = await startReceiver()
    const pinned = dnsTable({ 'hooks.test': ['127.0.0.1'] })

    const result = await deliverOnce(pendingDelivery(`http://hooks.test:${receiver.port}/cb`), {
      secret: SECRET,
      allowPrivate: true,
      timeoutMs: 2000,
      lookup: pinned,
    })

    expect(result).toEqual({ ok: true, status: 200 })
    expect(receiver.received[0].headers.host).toBe(`hooks.test:${receiver.port}`)
  })

  it('checks again on every try: a host that now resolves to loopback is not contacted', async () => {
    receiver = await startReceiver()
    const rebound = dnsTable({ 'hooks.test': ['127.0.0.1'] })

    const result = await deliverOnce(pendingDelivery(`http://hooks.test:${receiver.port}/cb`), {
      secret: SECRET,
      allowPrivate: false,
      timeoutMs: 2000,
      lookup: rebound,
    })

    expect(result.ok).toBe(false)
    expect(result.error).toMatch(/private, local or reserved/)
    expect(receiver.received).toHaveLength(0)
  })

  it('reads Retry-After given as an HTTP date', async () => {
    const later = new Date(Date.now() + 30_000).toUTCString()
    receiver = await startReceiver(() => ({ status: 503, headers: { 'retry-after': later } }))

    const result = await deliverOnce(pendingDelivery(receiver.url), {
      secret: SECRET,
      allowPrivate: true,
      timeoutMs: 2000,
    })

    expect(result).toMatchObject({ ok: false, status: 503 })
    expect(result.retryAfterMs).toBeGreaterThan(25_000)
    expect(result.retryAfterMs).toBeLessThanOrEqual(30_000)
  })
})
