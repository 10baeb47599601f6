import { Hono } from 'hono'
import type { DefinitionSet, WorkflowDef } from '../../definitions/types.js'
import { GantryError } from '../../errors.js'
import type { AppEnv } from '../env.js'

export function describeWorkflow(workflow: WorkflowDef) {
  return {
    id: workflow.id,
    name: workflow.name,
    description: workflow.description,
    input: workflow.input,
    steps: workflow.steps.map((s) => ({ id: s.id, ability: s.ability, needs: s.needs ?? null })),
  }
}

/** Public workflow definitions; running them comes with the workflow engine. */
export function workflowListRoutes(definitions: () => DefinitionSet) {
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ workflows: [...definitions().workflows.values()].map(describeWorkflow) }))
    .get('/:id', (c) => {
      const workflow = definitions().workflows.get(c.req.param('id'))
      if (!workflow) throw new GantryError('NOT_FOUND', `workflow '${c.req.param('id')}' not found`)
      return c.json(describeWorkflow(workflow))
    })
}
