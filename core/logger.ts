/** Operator-facing log lines on stderr: `time level message {fields}`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export function createLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  return function log(level, message, fields) {
    if (ORDER[level] < ORDER[minLevel]) return
    const extra = fields && Object.keys(fields).length ? ` ${safeJson(fields)}` : ''
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${extra}\n`)
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) =>
      v instanceof Error ? { message: v.message, code: (v as { code?: string }).code } : v,
    )
  } catch {
    return String(value)
  }
}
