/** Real server processes and a counting upstream, for crash and multi-node tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { ROOT } from './helpers.js'

/**
 * The provider's side: counts each task's calls (by `inputs.n`), holding each
 * for `holdMs`; remembers the most calls in flight at once and the calls whose
 * caller went away before the answer (cut).
 */
export async function startCountingUpstream(holdMs: number) {
  const calls = new Map<unknown, number>()
  /** When each call of `n` arrived (epoch ms). */
  const times = new Map<unknown, number[]>()
  const cut = new Set<unknown>()
  let hold = holdMs
  let inFlight = 0
  let most = 0
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const { n, holdMs: heldFor } = JSON.parse(body) as { n: unknown; holdMs?: number }
      calls.set(n, (calls.get(n) ?? 0) + 1)
      times.set(n, [...(times.get(n) ?? []), Date.now()])
      most = Math.max(most, ++inFlight)
      const timer = setTimeout(() => {
        inFlight--
        res.end('done')
      }, heldFor ?? hold)
      res.on('close', () => {
        if (!res.writableFinished) {
          clearTimeout(timer)
          inFlight--
          cut.add(n)
        }
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    calls,
    times,
    cut,
    inFlight: () => inFlight,
    /** Holds calls that arrive from now on for `ms`. */
    setHoldMs(ms: number) {
      hold = ms
    },
    mostInFlight: () => most,
    /** Forgets what was counted (calls still in flight stay counted in flight). */
    reset() {
      calls.clear()
      times.clear()
      cut.clear()
      most = inFlight
    },
    close: () => new Promise((r) => server.close(r)),
  }
}

export interface ServerProcess {
  child: ChildProcess
  url: string
  /** SIGTERM, and waits for the exit (nothing if it already exited). */
  stop(): Promise<void>
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>
}

/** Runs `gantry serve` in a process of its own; resolves once it listens. */
export function serve(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'core/cli/gantry.js'), 'serve'], {
      env: { ...process.env, ...env },
      cwd: ROOT,
    })
    const exited = new Promise<void>((r) => child.on('exit', () => r()))
    const signal = async (name: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name)
      await exited
    }
    let output = ''
    const onData = (d: Buffer) => {
      output += d
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match)
        resolve({ child, url: match[1], stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`gantry exited ${code}: ${output}`)))
  })
}
