import { createMiddleware } from 'hono/factory'
import { tryDecode } from 'hono/utils/url'
import { GantryError } from '../errors.js'
import { unstorable } from '../store/storable.js'

/**
 * Refuses a URL whose path or query decodes to a string no store can hold
 * (`%00`): route params and query values go straight into store lookups,
 * where PostgreSQL would fail with 500 and the embedded store would not.
 * Decoded as the router decodes them, so what is checked is what routes get.
 */
export const refuseUnstorableUrl = createMiddleware(async function refuseUnstorableUrl(c, next) {
  const raw = c.req.url
  if (raw.includes('%')) {
    const problem = unstorable(tryDecode(raw.replace(/\+/g, ' '), decodeURIComponent))
    if (problem) throw new GantryError('VALIDATION_FAILED', `the URL ${problem}`)
  }
  await next()
})
