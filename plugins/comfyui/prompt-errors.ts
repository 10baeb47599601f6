/**
 * ComfyUI's refusal of a prompt (HTTP 400), turned into one readable message:
 * `{ error: {type, message, details}, node_errors: { "<id>": { errors: [...], class_type } } }`.
 * Resending the same workflow cannot help, so the error is not retryable.
 */
import { ProviderError } from '../../core/contract.js'

interface ErrorItem {
  type?: string
  message?: string
  details?: string
}

export interface NodeErrors {
  [nodeId: string]: { errors?: ErrorItem[]; class_type?: string }
}

export interface PromptRejection {
  // older ComfyUI sends a bare string ("no prompt")
  error?: string | ErrorItem
  node_errors?: NodeErrors | unknown[]
}

const describe = (e: ErrorItem) => [e.message, e.details].filter(Boolean).join(': ')

/** `node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'x' not in [...]`, one per node. */
export function describeNodeErrors(nodeErrors: PromptRejection['node_errors']): string[] {
  if (!nodeErrors || Array.isArray(nodeErrors)) return []
  return Object.entries(nodeErrors).map(([id, node]) => {
    const what = node.class_type ? `node ${id} (${node.class_type})` : `node ${id}`
    const messages = (node.errors ?? []).map(describe).filter(Boolean)
    return `${what}: ${messages.join('; ') || 'invalid'}`
  })
}

export function rejectionError(status: number, rejection: PromptRejection): ProviderError {
  const top = typeof rejection.error === 'string' ? rejection.error : describe(rejection.error ?? {})
  const nodes = describeNodeErrors(rejection.node_errors)
  const message = ['ComfyUI rejected the workflow', top, ...nodes].filter(Boolean).join(': ')
  return new ProviderError(message.slice(0, 2000), {
    code: 'VALIDATION_FAILED',
    retryable: false,
    details: { status, error: rejection.error, node_errors: rejection.node_errors },
  })
}
