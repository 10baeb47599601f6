/**
 * The floors of `core/`: no import may run from a lower floor to a higher one.
 * The floors are read from the README's "## Layout" table, so the document and
 * the check cannot drift apart; the import graph is read with regular
 * expressions over relative specifiers (enough for this code base, and no
 * parser to keep up to date). Run by `npm run check:floors` and `.ci/run`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A repository file (posix path from the root) → the repository files it imports. */
export type ImportGraph = Map<string, string[]>

export interface Floor {
  level: number
  name: string
  /** Folders (`run/`) and root files (`errors.ts`) of `core/`. */
  holds: string[]
}

/** The only files of `core/` a plugin may import. */
export const PLUGIN_API = ['core/contract.ts', 'core/net/index.ts']

/**
 * Upward imports that are still there, each `importer -> imported`. Other
 * parts of issue 13 remove them (ledger rules used by the stores go to the
 * pricing room); an entry that no longer occurs fails the check, so this list
 * only shrinks. Never add to it: move the code to the floor it belongs on.
 */
export const ALLOWED_UPWARD: readonly string[] = [
  'core/store/lowdb/ledger-repository.ts -> core/ledger/limits.ts',
  'core/store/lowdb/ledger-repository.ts -> core/ledger/rules.ts',
  'core/store/lowdb/task-repository.ts -> core/ledger/rules.ts',
  'core/store/postgres/ledger-repository.ts -> core/ledger/limits.ts',
  'core/store/postgres/ledger-repository.ts -> core/ledger/rules.ts',
  'core/store/postgres/ledger-writes.ts -> core/ledger/rules.ts',
  'core/store/postgres/task-repository.ts -> core/ledger/rules.ts',
]

/** The floors table of the README's "## Layout" section: rows `| <level> <name> | `a/`, `b.ts` | ... |`. */
export function readFloors(readme: string): Floor[] {
  const start = readme.indexOf('\n## Layout\n')
  if (start < 0) throw new Error('README.md has no "## Layout" section')
  const next = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, next < 0 ? undefined : next)
  const floors: Floor[] = []
  for (const line of section.split('\n')) {
    const row = /^\|\s*(\d+)\s+([\w-]+)\s*\|([^|]*)\|/.exec(line)
    if (!row) continue
    const holds = [...row[3].matchAll(/`([^`]+)`/g)].map((m) => m[1])
    floors.push({ level: Number(row[1]), name: row[2], holds })
  }
  if (floors.length === 0) throw new Error('the "## Layout" section of README.md has no floors table')
  return floors
}

const SPECIFIERS =
  /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm

/** Every import specifier in a source text (relative or not). */
export function specifiersOf(source: string): string[] {
  return [...source.matchAll(SPECIFIERS)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4])
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/

function resolveSpecifier(root: string, from: string, spec: string): string | undefined {
  const base = resolve(root, dirname(from), spec)
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    base.replace(/\.cjs$/, '.cts'),
    base,
    `${base}.ts`,
    join(base, 'index.ts'),
  ]
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile())
  return found && relative(root, found).split(sep).join('/')
}

function sourceFiles(root: string, dir: string): string[] {
  const full = join(root, dir)
  if (!existsSync(full)) return []
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(root, path)
    return SOURCE.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : []
  })
}

/**
 * The relative imports of every source file under `dirs`, resolved to files;
 * bare specifiers (packages, `node:`) are kept as they are, for the model's rule.
 */
export function readGraph(root: string, dirs: string[] = ['core', 'plugins']): ImportGraph {
  const graph: ImportGraph = new Map()
  for (const file of dirs.flatMap((d) => sourceFiles(root, d))) {
    const targets = specifiersOf(readFileSync(join(root, file), 'utf8')).map((spec) =>
      spec.startsWith('.') ? resolveSpecifier(root, file, spec) : spec,
    )
    // a specifier that resolves to no file is the compiler's to report, not this check's
    graph.set(file, [...new Set(targets.filter((t): t is string => t !== undefined))])
  }
  return graph
}

/** The floor of a file of `core/`, or undefined when no row holds it. */
export function floorOf(file: string, floors: Floor[]): Floor | undefined {
  const inCore = file.slice('core/'.length)
  const slash = inCore.indexOf('/')
  const key = slash < 0 ? inCore : inCore.slice(0, slash + 1)
  return floors.find((f) => f.holds.includes(key))
}

/** What is wrong with the graph, one sentence a problem; empty when the floors hold. */
export function checkFloors(
  graph: ImportGraph,
  floors: Floor[],
  allowed: readonly string[] = ALLOWED_UPWARD,
): string[] {
  const problems: string[] = []
  const upward = new Set<string>()
  for (const [file, targets] of graph) {
    if (file.startsWith('plugins/')) {
      for (const t of targets) {
        if (t.startsWith('core/') && !PLUGIN_API.includes(t)) {
          problems.push(`${file} imports ${t}: a plugin imports from core/ only ${PLUGIN_API.join(' and ')}`)
        }
      }
      continue
    }
    if (!file.startsWith('core/')) continue
    const floor = floorOf(file, floors)
    if (!floor) {
      problems.push(`${file} is on no floor: give its folder a row in the README's Layout floors table`)
      continue
    }
    for (const t of targets) {
      if (!t.startsWith('core/')) {
        // the ground floor depends on nothing but Node itself
        if (floor.level === 0 && !t.startsWith('node:') && !t.startsWith('.')) {
          problems.push(`${file} imports ${t}: the ${floor.name} floor imports only Node built-ins`)
        }
        continue
      }
      const to = floorOf(t, floors)
      if (!to || to.level <= floor.level) continue
      const edge = `${file} -> ${t}`
      upward.add(edge)
      if (!allowed.includes(edge)) {
        problems.push(
          `${edge} runs upward: floor ${floor.level} ${floor.name} imports floor ${to.level} ${to.name}`,
        )
      }
    }
  }
  for (const edge of allowed) {
    if (!upward.has(edge)) {
      problems.push(`${edge} is allowed but no longer occurs: remove it from ALLOWED_UPWARD`)
    }
  }
  return problems
}

/** The check over the repository at `root`, as CI runs it. */
export function checkRepo(root: string): string[] {
  return checkFloors(readGraph(root), readFloors(readFileSync(join(root, 'README.md'), 'utf8')))
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const problems = checkRepo(root)
  for (const p of problems) console.error(p)
  if (problems.length > 0) {
    console.error(`${problems.length} floor problem(s); see README.md "## Layout"`)
    process.exit(1)
  }
  console.log('floors hold: no import runs upward')
}
