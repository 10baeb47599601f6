/**
 * The ability's workflow: ComfyUI's API format (`{ "3": { class_type, inputs } }`,
 * what "Save (API Format)" exports), given inline or as a JSON file. A path
 * is read on every submit, so an edited file takes effect without a reload;
 * plugins get plain data, not the definition's location, so a relative path
 * is resolved against Gantry's working directory.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { ProviderError } from '../../core/contract.js'

export interface WorkflowNode {
  class_type: string
  inputs: Record<string, unknown>
  [key: string]: unknown
}

export type ApiWorkflow = Record<string, WorkflowNode>

const invalid = (message: string) =>
  new ProviderError(message, { code: 'VALIDATION_FAILED', retryable: false })

async function readWorkflowFile(path: string): Promise<unknown> {
  const file = resolve(process.cwd(), path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw invalid(`cannot read workflow file ${file}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw invalid(`workflow file ${file} is not JSON: ${(err as Error).message}`)
  }
}

function checkShape(workflow: unknown, where: string): ApiWorkflow {
  if (!workflow || typeof workflow !== 'object' || Array.isArray(workflow)) {
    throw invalid(`${where} must be a JSON object of nodes`)
  }
  // the UI's own save format has `nodes` and `links` arrays; ComfyUI's /prompt only takes the API format
  if (Array.isArray((workflow as Record<string, unknown>).nodes)) {
    throw invalid(`${where} is in ComfyUI's UI format; export it with "Save (API Format)"`)
  }
  for (const [id, node] of Object.entries(workflow)) {
    const n = node as Partial<WorkflowNode> | null
    if (!n || typeof n.class_type !== 'string' || typeof n.inputs !== 'object' || n.inputs === null) {
      throw invalid(`${where}: node ${id} needs a class_type and an inputs object`)
    }
  }
  return workflow as ApiWorkflow
}

/** A fresh copy of the workflow, safe to fill in for one call. */
export async function loadWorkflow(source: unknown): Promise<ApiWorkflow> {
  if (typeof source === 'string') return checkShape(await readWorkflowFile(source), `workflow ${source}`)
  return checkShape(structuredClone(source), 'config.workflow')
}

/** The node ids to collect images from: the configured ones, else every SaveImage node. */
export function outputNodesOf(workflow: ApiWorkflow, configured?: string[]): string[] {
  if (configured?.length) return configured
  return Object.entries(workflow)
    .filter(([, node]) => node.class_type === 'SaveImage')
    .map(([id]) => id)
}
