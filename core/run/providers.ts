import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PluginHooks, Provider } from '../contract.js'
import type { ProviderInfo } from '../definitions/types.js'
import { GantryError } from '../errors.js'
import { hooksOf, providersOf } from './provider-module.js'

export interface LoadedProvider {
  provider: Provider
  /** Workers import the provider from here. */
  moduleUrl: string
}

export interface ProviderCatalog {
  get(name: string): LoadedProvider | undefined
  /** What the definitions loader checks executors and abilities against. */
  infos(): ReadonlyMap<string, ProviderInfo>
  hooks: { plugin: string; hooks: PluginHooks }[]
}

/** Providers that ship with Gantry, each a module under plugins/. */
export const BUILT_IN_PLUGINS = ['mock', 'openai', 'http', 'comfyui', 'image'].map(
  (name) => new URL(`../../plugins/${name}/index.ts`, import.meta.url),
)

/** Turns a GANTRY_PLUGINS entry (a path or a package name) into a module URL. */
export function resolvePluginSpecifier(spec: string, cwd = process.cwd()): string {
  if (spec.startsWith('file:')) return spec
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(cwd, spec)).href
  try {
    return import.meta.resolve(spec)
  } catch (err) {
    throw new GantryError('PLUGIN_NOT_FOUND', `plugin '${spec}' not found: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

/** Loads built-in and extra plugin modules; a later module's provider of the same name wins. */
export async function loadProviders(
  extra: string[] = [],
  builtIns = BUILT_IN_PLUGINS.map(String),
): Promise<ProviderCatalog> {
  const providers = new Map<string, LoadedProvider>()
  const hooks: ProviderCatalog['hooks'] = []
  const modules = [
    ...builtIns.map((url) => ({ spec: url, moduleUrl: url })),
    ...extra.map((spec) => ({ spec, moduleUrl: resolvePluginSpecifier(spec) })),
  ]
  for (const { spec, moduleUrl } of modules) {
    let mod: Record<string, unknown>
    try {
      mod = await import(moduleUrl)
    } catch (err) {
      throw new GantryError(
        'PLUGIN_LOAD_FAILED',
        `could not load plugin ${moduleUrl}: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    const found = providersOf(mod)
    const ownHooks = hooksOf(mod)
    // each module on its own: a typo'd export must not hide behind an earlier module's hooks
    if (found.length === 0 && ownHooks.length === 0) {
      throw new GantryError(
        'PLUGIN_LOAD_FAILED',
        `plugin ${spec === moduleUrl ? spec : `${spec} (${moduleUrl})`} exports no provider and no hooks: ` +
          'default-export defineProvider(...) or definePlugin({ name, providers, hooks })',
      )
    }
    for (const provider of found) providers.set(provider.name, { provider, moduleUrl })
    hooks.push(...ownHooks)
  }
  const infos = new Map<string, ProviderInfo>(
    [...providers].map(([name, { provider }]) => [
      name,
      { name, configSchema: provider.configSchema, abilityConfigSchema: provider.abilityConfigSchema },
    ]),
  )
  return { get: (name) => providers.get(name), infos: () => infos, hooks }
}
