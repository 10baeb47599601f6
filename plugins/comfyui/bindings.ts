/**
 * Filling the caller's inputs into the workflow: each binding names a node
 * input as `nodeId.inputs.field`. A binding whose input the caller did not
 * send leaves the workflow's own value; one that names a node the workflow
 * lacks is a configuration mistake and fails the call before anything is queued.
 */
import { ProviderError } from '../../core/contract.js'
import type { ApiWorkflow } from './workflow.js'

export interface BindingTarget {
  nodeId: string
  field: string
}

/** Splits `6.inputs.text` into its node and input; throws when the node is not in the workflow. */
export function targetOf(workflow: ApiWorkflow, spec: string, input: string): BindingTarget {
  const match = /^([^.]+)\.inputs\.(.+)$/.exec(spec)
  if (!match) {
    throw new ProviderError(`binding '${input}': '${spec}' is not of the form nodeId.inputs.field`, {
      code: 'VALIDATION_FAILED',
      retryable: false,
    })
  }
  const [, nodeId, field] = match
  if (!workflow[nodeId]) {
    throw new ProviderError(`binding '${input}' names node ${nodeId}, which is not in the workflow`, {
      code: 'VALIDATION_FAILED',
      retryable: false,
      details: { input, target: spec, nodeId },
    })
  }
  return { nodeId, field }
}

export function setInput(workflow: ApiWorkflow, target: BindingTarget, value: unknown): void {
  workflow[target.nodeId].inputs[target.field] = value
}

/** Checks every target (sent or not, so a wrong node id shows on the first call) and sets the sent inputs. */
export function applyBindings(
  workflow: ApiWorkflow,
  bindings: Record<string, string>,
  inputs: Record<string, unknown>,
): void {
  for (const [input, spec] of Object.entries(bindings)) {
    const target = targetOf(workflow, spec, input)
    if (inputs[input] !== undefined) setInput(workflow, target, inputs[input])
  }
}
