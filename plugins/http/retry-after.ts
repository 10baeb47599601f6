/** Reading `Retry-After` and waiting it out: both from the plugin contract. */
export { retryAfterMs, sleep } from '../../core/contract.js'
