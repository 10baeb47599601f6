/**
 * An example hooks plugin: writes every event to a JSON-lines audit file,
 * stamps each call with an audit id, and refuses prompts that mention a
 * blocked word. Load it with GANTRY_PLUGINS=./plugins/example-audit/index.ts;
 * GANTRY_AUDIT_FILE names the file (default ./data/audit.jsonl),
 * GANTRY_AUDIT_BLOCKED a comma-separated list of words.
 */
import { appendFile } from 'node:fs/promises'
import { definePlugin, HookRejection } from '../../core/contract.js'

const file = process.env.GANTRY_AUDIT_FILE ?? './data/audit.jsonl'
const blocked = (process.env.GANTRY_AUDIT_BLOCKED ?? '')
  .split(',')
  .map((w) => w.trim().toLowerCase())
  .filter(Boolean)
let sequence = 0

export default definePlugin({
  name: 'audit',
  version: '1.0.0',
  hooks: {
    async onEvent(type, payload) {
      await appendFile(file, `${JSON.stringify({ at: new Date().toISOString(), type, payload })}\n`)
    },
    beforeInvoke(call) {
      const text = JSON.stringify(call.inputs).toLowerCase()
      const word = blocked.find((w) => text.includes(w))
      if (word)
        throw new HookRejection('FORBIDDEN', `inputs mention '${word}', which this platform does not run`)
      return { auditId: `audit-${process.pid}-${++sequence}` }
    },
  },
})
