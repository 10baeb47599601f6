/**
 * Part of the plugin contract, kept apart from `core/contract.ts` because it
 * loads undici: for plugins that fetch URLs their callers name (a file, an
 * image), the same guard Gantry's callbacks use.
 *
 * @example
 * ```ts
 * import { createPublicOnlyAgent, isForbiddenAddressError } from 'gantry/core/net/index.js'
 * const agent = createPublicOnlyAgent()
 * ```
 */
export { isForbiddenAddress } from './forbidden-address.js'
export {
  createPublicOnlyAgent,
  FORBIDDEN_ADDRESS,
  isForbiddenAddressError,
  type PublicOnlyAgentOptions,
} from './public-only-agent.js'
