/** Offline checking for `gantry validate [DIR...]`: every error of every file, no watching. */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { displayPath } from './definition-error.js'
import { createDefinitionLoader } from './loader.js'
import type { DefinitionError, ProviderInfo } from './types.js'

export { formatDefinitionError } from './definition-error.js'

/** Errors sorted by file and position; a directory that does not exist is an error too, unlike when serving. */
export async function validateDirs(
  dirs: string[],
  providers: ReadonlyMap<string, ProviderInfo>,
  env: Record<string, string | undefined> = process.env,
  maxFileBytes?: number,
): Promise<DefinitionError[]> {
  const missing: DefinitionError[] = []
  for (const dir of dirs) {
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    )
    if (!isDir)
      missing.push({ file: displayPath(path.resolve(dir)), line: 1, col: 1, message: 'no such directory' })
  }
  const loader = createDefinitionLoader({ dirs, providers, env, maxFileBytes })
  try {
    const set = await loader.load()
    return [...missing, ...set.errors]
  } finally {
    await loader.close()
  }
}
