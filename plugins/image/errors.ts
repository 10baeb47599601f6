/**
 * The provider's coded failures. A bad image or a bad parameter is the
 * caller's to fix, so it is never retried; a flaky image host may be.
 */
import { ProviderError } from '../../core/contract.js'

/** The caller sent something this provider cannot use: no image, not an image, a parameter out of range. */
export const invalidInput = (message: string, details?: unknown) =>
  new ProviderError(message, { code: 'VALIDATION_FAILED', retryable: false, details })

/** The image host failed in a way that may pass (5xx, 429, a dropped connection). */
export const fetchFailed = (message: string) =>
  new ProviderError(message, { code: 'PROVIDER_ERROR', retryable: true })
