import { sql as initial } from './001-initial.js'

/** Every migration, in order; a version is applied once and never changed after release. */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [{ version: 1, sql: initial }]
