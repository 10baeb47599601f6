import type { Plugin, PluginHooks, Provider } from '../contract.js'

/** The providers a plugin module exports: a provider, a plugin with `providers`, or named exports of either. */
export function providersOf(mod: unknown): Provider[] {
  const m = mod as Record<string, unknown>
  const candidates = [m.default, m.plugin, m.provider, ...(Array.isArray(m.providers) ? m.providers : [])]
  const found: Provider[] = []
  for (const c of candidates) {
    if (isProvider(c)) found.push(c)
    else if (isPlugin(c)) found.push(...(c.providers ?? []))
  }
  return [...new Map(found.map((p) => [p.name, p])).values()]
}

/** The hooks a plugin module exports (`default` or `plugin`): only plugins with at least one hook function. */
export function hooksOf(mod: unknown): { plugin: string; hooks: PluginHooks }[] {
  const m = mod as Record<string, unknown>
  const found: { plugin: string; hooks: PluginHooks }[] = []
  for (const candidate of new Set([m.default, m.plugin])) {
    if (!isPlugin(candidate) || !candidate.hooks) continue
    if (Object.values(candidate.hooks).some((hook) => typeof hook === 'function'))
      found.push({ plugin: candidate.name, hooks: candidate.hooks })
  }
  return found
}

export function findProvider(mod: unknown, name: string, where: string): Provider {
  const provider = providersOf(mod).find((p) => p.name === name)
  if (!provider) throw Object.assign(new Error(`no provider '${name}' in ${where}`), { retryable: false })
  return provider
}

export function isProvider(value: unknown): value is Provider {
  const v = value as Provider
  return (
    !!v && typeof v.name === 'string' && (typeof v.invoke === 'function' || typeof v.submit === 'function')
  )
}

export function isPlugin(value: unknown): value is Plugin {
  const v = value as Plugin
  return !!v && typeof v.name === 'string' && (Array.isArray(v.providers) || typeof v.hooks === 'object')
}
