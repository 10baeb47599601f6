import type { Caller } from '../run/types.js'

/** What handlers find on the Hono context. */
export interface AppEnv {
  Variables: { caller: Caller }
}
