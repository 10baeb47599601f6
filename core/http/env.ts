import type { Caller } from '../model/call.js'

/** What handlers find on the Hono context. */
export interface AppEnv {
  Variables: { caller: Caller }
}
