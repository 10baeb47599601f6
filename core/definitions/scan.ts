/** Finding definition files: `.yaml`/`.yml` under each directory, recursively, with a change signature. */
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'

const YAML_FILE = /\.ya?ml$/i

/** Absolute path to `mtime:size:inode`; a missing directory simply has no files. */
export async function listDefinitionFiles(dirs: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (const dir of new Set(dirs.map((d) => path.resolve(d)))) await walk(dir, found)
  return found
}

async function walk(dir: string, found: Map<string, string>): Promise<void> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    // gone, not yet created or unreadable: the poll picks it up when it appears
    return
  }
  for (const entry of entries) {
    // editors' lock and backup files (`.#a.yaml`) and hidden folders are not definitions
    if (entry.name.startsWith('.')) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      await walk(full, found)
      continue
    }
    // symlinked files count; symlinked folders are skipped so a loop cannot trap the walk
    if (!(entry.isFile() || entry.isSymbolicLink()) || !YAML_FILE.test(entry.name)) continue
    const signature = await signatureOf(full)
    if (signature) found.set(full, signature)
  }
}

async function signatureOf(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file)
    return s.isFile() ? `${s.mtimeMs}:${s.size}:${s.ino}` : undefined
  } catch {
    return undefined
  }
}
