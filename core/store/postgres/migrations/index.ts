import { sql as initial } from './001-initial.js'
import { sql as cluster } from './002-cluster.js'
import { sql as secrets } from './003-secrets.js'
import { sql as media } from './004-media.js'

/** Every migration, in order; a version is applied once and never changed after release. */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  { version: 1, sql: initial },
  { version: 2, sql: cluster },
  { version: 3, sql: secrets },
  { version: 4, sql: media },
]
