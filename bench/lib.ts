/** Shared bits of the benchmarks: child servers and autocannon runs. */
import { type ChildProcess, spawn } from 'node:child_process'
import autocannon from 'autocannon'

export interface Child {
  child: ChildProcess
  url: string
  stop(): Promise<void>
}

/** Spawns a server script (TypeScript through tsx) and waits for its "listening on URL" line. */
export function spawnServer(args: string[], env: Record<string, string> = {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const onData = (d: Buffer) => {
      output += d
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        // keep draining the child's output so that it never blocks on a full pipe
        output = ''
        child.stdout?.off('data', onData)
        child.stderr?.off('data', onData)
        child.stdout?.resume()
        child.stderr?.resume()
        resolve({
          child,
          url: match[1],
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done())
              child.kill('SIGTERM')
            }),
        })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)))
  })
}

export interface LoadResult {
  requests: number
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

export async function load(opts: {
  url: string
  body: string
  headers?: Record<string, string>
  connections: number
  seconds: number
}): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    method: 'POST',
    body: opts.body,
    headers: { 'content-type': 'application/json', ...opts.headers },
    connections: opts.connections,
    duration: opts.seconds,
  })
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
