import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import {
  ALLOWED_UPWARD,
  checkFloors,
  checkRepo,
  type ImportGraph,
  readFloors,
  readGraph,
  specifiersOf,
} from '../../scripts/check-floors.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const floors = readFloors(readFileSync(resolve(ROOT, 'README.md'), 'utf8'))

it('reads the floors from the README, model at the bottom and the wiring at the top', () => {
  expect(floors.map((f) => `${f.level} ${f.name}`)).toEqual([
    '0 model',
    '1 foundation',
    '2 store',
    '3 domain',
    '4 http',
    '5 wiring',
  ])
  expect(floors[0].holds).toEqual(['model/'])
  expect(floors[5].holds).toContain('gantry.ts')
})

it('holds on the code as it is, and `npm run check:floors` says so', async () => {
  expect(checkRepo(ROOT)).toEqual([])
  const graph = readGraph(ROOT)
  // the graph is real: the store's interface is imported from the ground floor
  expect(graph.get('core/store/lowdb/index.ts')).toContain('core/model/store.ts')
  const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/check-floors.ts'], { cwd: ROOT })
  expect(stdout).toContain('floors hold')
})

it('finds every kind of import statement', () => {
  const source = [
    "import type { A } from '../model/task.js'",
    "import {\n  b,\n  c,\n} from './b.js'",
    "export { d } from './d.js'",
    "export * from './e.js'",
    "const f = await import('./f.js')",
    "const g = require('./g.cjs')",
    "import './h.js'",
  ].join('\n')
  expect(specifiersOf(source)).toEqual([
    '../model/task.js',
    './b.js',
    './d.js',
    './e.js',
    './f.js',
    './g.cjs',
    './h.js',
  ])
})

it('refuses an upward import, a file on no floor, a plugin reaching past the contract and a package in the model', () => {
  const graph: ImportGraph = new Map([
    ['core/model/task.ts', ['core/tasks/task-runner.ts', 'node:crypto', 'lowdb']],
    ['core/store/lowdb/task-repository.ts', ['core/model/task.ts', 'core/http/app.ts']],
    ['core/http/app.ts', ['core/tasks/task-runner.ts', 'core/model/store.ts']],
    ['core/tasks/task-runner.ts', ['core/store/open-store.ts', 'core/gantry.ts']],
    ['core/calls/admit.ts', ['core/model/call.ts']],
    ['plugins/mock/index.ts', ['core/contract.ts', 'core/net/index.ts', 'core/run/pool.ts']],
  ])
  expect(checkFloors(graph, floors, [])).toEqual([
    'core/model/task.ts -> core/tasks/task-runner.ts runs upward: floor 0 model imports floor 3 domain',
    'core/model/task.ts imports lowdb: the model floor imports only Node built-ins',
    'core/store/lowdb/task-repository.ts -> core/http/app.ts runs upward: floor 2 store imports floor 4 http',
    'core/tasks/task-runner.ts -> core/gantry.ts runs upward: floor 3 domain imports floor 5 wiring',
    "core/calls/admit.ts is on no floor: give its folder a row in the README's Layout floors table",
    'plugins/mock/index.ts imports core/run/pool.ts: a plugin imports from core/ only core/contract.ts and core/net/index.ts',
  ])
})

it('lets an allowed upward import pass, and fails an allowed one that is gone so the list only shrinks', () => {
  const graph: ImportGraph = new Map([['core/store/x.ts', ['core/ledger/rules.ts']]])
  expect(checkFloors(graph, floors, ['core/store/x.ts -> core/ledger/rules.ts'])).toEqual([])
  expect(
    checkFloors(graph, floors, [
      'core/store/x.ts -> core/ledger/rules.ts',
      'core/store/y.ts -> core/run/pool.ts',
    ]),
  ).toEqual([
    'core/store/y.ts -> core/run/pool.ts is allowed but no longer occurs: remove it from ALLOWED_UPWARD',
  ])
  // every entry of the real list names an import that runs upward today
  expect(ALLOWED_UPWARD.length).toBeGreaterThan(0)
})
