/** Arrange helpers for definitions tests: real temp folders, real files, a small providers map. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ProviderInfo } from '../../core/definitions/types.js'
import { WAIT_MS } from '../helpers.js'

export { WAIT_MS }

export const providers: ReadonlyMap<string, ProviderInfo> = new Map([
  ['mock', { name: 'mock' }],
  [
    'strict',
    {
      name: 'strict',
      configSchema: { type: 'object', required: ['baseUrl'], properties: { baseUrl: { type: 'string' } } },
      abilityConfigSchema: {
        type: 'object',
        properties: { model: { type: 'string' } },
        additionalProperties: false,
      },
    },
  ],
])

/** A fresh folder under the OS temp dir; `cleanup()` removes it. */
export async function tempDefinitionsDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gantry-defs-'))
  return {
    dir,
    /** Writes `lines` joined by newlines to `name` (sub-folders created), returning the absolute path. */
    async write(name: string, lines: string | string[]) {
      const file = path.join(dir, name)
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(file, Array.isArray(lines) ? `${lines.join('\n')}\n` : lines)
      return file
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Polls `check` until it returns something truthy, failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T,
  timeoutMs = WAIT_MS,
  what = 'condition',
): Promise<Exclude<T, false | undefined | null | 0 | ''>> {
  const started = Date.now()
  for (;;) {
    const value = check()
    if (value) return value as Exclude<T, false | undefined | null | 0 | ''>
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const EXECUTOR = ['kind: Executor', 'id: local-mock', 'provider: mock']
