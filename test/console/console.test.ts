/**
 * The operator console in a real Chromium against a real Gantry with mock abilities:
 * sign in, run through a generated form, watch a queued task finish live, see a validation
 * error at its field, run a workflow, read a log's raw response as admin.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startGantry, type TestGantry } from '../helpers.js'
import { serveConsole } from './console-server.js'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const SHOTS = join(ROOT, 'test-artifacts/console')

const DEFINITIONS = `
kind: Executor
id: m
provider: mock
maxConcurrency: 2
---
kind: Ability
id: demo.echo
name: Echo
description: Returns its inputs as text.
executor: m
type: text
input:
  type: object
  required: [text]
  properties:
    text: { type: string, maxLength: 1000, description: What to echo }
    count: { type: integer, minimum: 1, maximum: 5, default: 2 }
    style: { type: string, enum: [plain, fancy], default: plain }
    loud: { type: boolean }
    tags: { type: array, items: { type: string } }
    options:
      type: object
      properties:
        size: { type: string, enum: [sd, hd] }
pricing:
  base: 3
  add:
    - { when: { style: fancy }, points: 2 }
---
kind: Ability
id: demo.slow
name: Slow echo
executor: m
type: text
input: { type: object, properties: { text: { type: string } } }
config: { delayMs: 800, progressSteps: 4 }
---
kind: Workflow
id: two-steps
name: Two steps
input: { type: object, required: [name], properties: { name: { type: string } } }
steps:
  - id: greet
    ability: demo.echo
    with: { text: "hello \${{ params.name }}" }
  - id: repeat
    ability: demo.slow
    needs: [greet]
    with: { text: "\${{ steps.greet.output.texts[0] }}" }
`

describe.skipIf(!hasChromium)('operator console in Chromium', () => {
  let g: TestGantry
  let site: { url: string; close(): Promise<void> }
  let browser: Browser

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true })
    g = await startGantry({ files: { 'defs.yaml': DEFINITIONS } })
    site = await serveConsole(g)
    await g.api('/api/admin/wallets/alice/grant', { body: { points: 1000, reason: 'console tests' } })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-gpu',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await site?.close()
    await g?.stop()
  })

  /** A fresh tab, signed in with a token for `sub` by pasting it, as an operator would. */
  async function signedIn(sub: string, role: 'user' | 'admin' = 'user', width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } })
    // fail at the step that did not happen, well inside the test's own timeout
    page.setDefaultTimeout(6000)
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    // a refused request (an estimate of an incomplete form) is logged by Chromium too: not a page error
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text())
    })
    ;(page as Page & { jsErrors?: string[] }).jsErrors = errors
    await page.goto(`${site.url}/console`)
    await page.getByLabel('Token').fill(g.token(sub, role))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('navigation', { name: 'Sections' }).waitFor()
    await page.locator('#live-mode[data-mode="live"]').waitFor()
    return page
  }

  it('refuses a bad token and keeps the token out of URLs and localStorage', async () => {
    const page = await browser.newPage()
    const urls: string[] = []
    page.on('request', (req) => urls.push(req.url()))
    await page.goto(`${site.url}/console`)
    await page.getByLabel('Token').fill('not-a-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/refused/i)

    const token = g.token('bob')
    await page.getByLabel('Token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('#live-mode[data-mode="live"]').waitFor()
    expect(urls.some((u) => u.includes(token))).toBe(false)
    expect(urls.some((u) => u.includes('/api/notify/v1/stream?ticket='))).toBe(true)
    expect(await page.evaluate(() => Object.keys((globalThis as any).localStorage).length)).toBe(0)
    await page.close()
  })

  it('runs an ability through its generated form and shows the result text', async () => {
    const page = await signedIn('alice')
    await page.getByRole('link', { name: /Echo demo\.echo/ }).click()
    await expect.poll(() => page.locator('#estimate').textContent()).toBe('from 3 points')
    // defaults are filled and required is marked
    await expect.poll(() => page.getByLabel('count').inputValue()).toBe('2')
    expect(await page.getByLabel(/^text/).getAttribute('aria-required')).toBe('true')

    await page.getByLabel(/^text/).fill('hello console')
    await expect.poll(() => page.locator('#estimate').textContent()).toBe('3 points')
    await page.getByLabel('style').selectOption({ label: 'fancy' })
    await expect.poll(() => page.locator('#estimate').textContent()).toBe('5 points')
    await page.getByLabel('loud').check()
    await page.getByLabel('tags').fill('a, b')
    await page.getByLabel('size').selectOption({ label: 'hd' })
    await page.getByRole('button', { name: 'Run now' }).click()

    const text = page.locator('#ability-result .result-text')
    await text.waitFor()
    const echoed = JSON.parse((await text.textContent())!)
    expect(echoed).toEqual({
      text: 'hello console',
      count: 2,
      style: 'fancy',
      loud: true,
      tags: ['a', 'b'],
      options: { size: 'hd' },
    })
    expect(await page.locator('#ability-result').textContent()).toContain('5 points')
    await page.screenshot({ path: join(SHOTS, 'abilities-1280.png'), fullPage: true })
    expect((page as Page & { jsErrors?: string[] }).jsErrors).toEqual([])
    await page.close()
  })

  it('shows an API validation error next to its field', async () => {
    const page = await signedIn('alice')
    await page.goto(`${site.url}/console#/abilities/demo.echo`)
    await page.getByLabel(/^text/).fill('x')
    await page.getByLabel('count').fill('9')
    await page.getByRole('button', { name: 'Run now' }).click()
    const countField = page.locator('.field', { has: page.getByLabel('count') })
    await expect.poll(() => countField.locator('.field-error').textContent()).toMatch(/<= 5/)
    expect(await page.getByLabel('count').getAttribute('aria-invalid')).toBe('true')
    // the other field stays clean
    expect(await page.getByLabel(/^text/).getAttribute('aria-invalid')).toBeNull()
    await page.close()
  })

  it('queues a task and watches it reach succeeded without reloading', async () => {
    const page = await signedIn('alice')
    await page.goto(`${site.url}/console#/abilities/demo.slow`)
    await page.getByLabel('text').fill('slowly')
    await page.getByRole('button', { name: 'Queue' }).click()
    await page.getByRole('link', { name: 'See it in Tasks' }).click()
    const row = page.locator('#task-table tbody tr', { hasText: 'demo.slow' }).first()
    await row.waitFor()
    let navigations = 0
    page.on('framenavigated', () => navigations++)
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 3000 }).toMatch(/queued|running/)
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 8000 }).toBe('succeeded')
    expect(navigations).toBe(0)
    await row.getByRole('button', { name: 'Open result' }).click()
    await expect.poll(() => page.locator('.detail-row .result-text').textContent()).toContain('slowly')
    await page.screenshot({ path: join(SHOTS, 'tasks-1280.png'), fullPage: true })
    await page.close()
  })

  it('falls back to polling when the stream is refused, and still sees the task succeed', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(6000)
    // the stream never connects (a proxy that does not pass SSE, say)
    await page.route('**/api/notify/v1/stream**', (route) => route.abort())
    await page.goto(`${site.url}/console`)
    await page.getByLabel('Token').fill(g.token('bob'))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('#live-mode[data-mode="polling"]').waitFor()
    await page.goto(`${site.url}/console#/abilities/demo.slow`)
    await page.getByLabel('text').fill('polled')
    await page.getByRole('button', { name: 'Queue' }).click()
    await page.getByRole('link', { name: 'See it in Tasks' }).click()
    const row = page.locator('#task-table tbody tr', { hasText: 'demo.slow' }).first()
    await row.waitFor()
    // only the 3-second poll can tell the page that the task ended
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('succeeded')
    await page.close()
  })

  it('starts a workflow and sees its steps complete', async () => {
    const page = await signedIn('alice')
    await page.getByRole('link', { name: 'Workflows' }).click()
    await page.getByRole('link', { name: /Two steps/ }).click()
    await page.getByLabel(/^name/).fill('Mia')
    await page.getByRole('button', { name: 'Start job' }).click()
    await page.locator('#job-steps').waitFor()
    await expect
      .poll(() => page.locator('#job .badge').first().textContent(), { timeout: 10_000 })
      .toBe('completed')
    expect(
      await page
        .locator('#job-steps > li')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))),
    ).toEqual(['succeeded', 'succeeded'])
    await page.screenshot({ path: join(SHOTS, 'workflow-job-1280.png'), fullPage: true })

    // after a reload the job is listed among the active ones until consumed
    await page.goto(`${site.url}/console#/workflows`)
    await page.reload()
    const active = page.locator('#active-jobs a', { hasText: 'two-steps' })
    await active.waitFor()
    await active.click()
    await page.getByRole('button', { name: 'Consume' }).click()
    await page
      .locator('#job')
      .getByText(/consumed/)
      .waitFor()
    await page.close()
  })

  it('as admin, opens a log raw response, and a new log is highlighted live', async () => {
    await g.api('/api/abilities/demo.echo/invoke', {
      body: { inputs: { text: 'an older one' } },
      token: g.token('alice'),
    })
    const page = await signedIn('root', 'admin')
    await page.getByRole('link', { name: 'Admin' }).click()
    await page.getByLabel('Ability').selectOption('demo.echo')
    const rows = page.locator('#log-table tbody tr[data-log-id]')
    await rows.first().waitFor()
    const before = await rows.count()

    await g.api('/api/admin/wallets/carol/grant', { body: { points: 10, reason: 'console tests' } })
    const call = await g.api('/api/abilities/demo.echo/invoke', {
      body: { inputs: { text: 'fresh one' } },
      token: g.token('carol'),
    })
    expect(call.status).toBe(200)
    await expect.poll(() => rows.count()).toBe(before + 1)
    const fresh = page.locator('#log-table tr.fresh')
    await fresh.waitFor()
    expect(await fresh.textContent()).toContain('carol')

    await fresh.getByRole('button', { name: 'Raw response' }).click()
    const raw = page.locator('.detail-row .raw-grid')
    await expect.poll(() => raw.textContent()).toContain('"mock": true')
    expect(await raw.textContent()).toContain('fresh one')
    expect(await page.locator('#executors').textContent()).toContain('running 0/2')
    expect(await page.locator('#definition-errors').textContent()).toContain('Every definition file loaded')
    await page.screenshot({ path: join(SHOTS, 'admin-logs-1280.png'), fullPage: true })

    await page.getByLabel('User id').fill('alice')
    await page.getByRole('button', { name: 'Look up' }).click()
    await page.locator('#wallet-balance').waitFor()
    await page.getByLabel('Points').fill('25')
    await page.getByLabel('Reason').fill('thanks')
    const balance = Number(await page.locator('#wallet-balance').textContent())
    await page.getByRole('button', { name: 'Grant' }).click()
    await expect
      .poll(async () => Number(await page.locator('#wallet-balance').textContent()))
      .toBe(balance + 25)
    await page.close()
  })

  it('is readable at 390 px', async () => {
    const page = await signedIn('alice', 'user', 390)
    await page.goto(`${site.url}/console#/abilities/demo.echo`)
    await page.getByLabel(/^text/).fill('phone')
    await page.getByRole('button', { name: 'Run now' }).click()
    await page.locator('#ability-result .result-text').waitFor()
    // nothing wider than the screen
    expect(
      await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(SHOTS, 'abilities-390.png'), fullPage: true })
    await page.goto(`${site.url}/console#/tasks`)
    await page.locator('#task-table tbody tr').first().waitFor()
    expect(
      await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(SHOTS, 'tasks-390.png'), fullPage: true })
    await page.close()
  })
})

it.skipIf(hasChromium)(
  'console browser tests need Chromium at /usr/bin/chromium (apt-get install -y chromium)',
  () => {},
)
