/**
 * `gantry-media:` references: what a stored task keeps in place of a large
 * inline input (see offload-inputs.ts). Media keys are content hashes and show
 * up in every media link, so a reference must prove Gantry wrote it: each one
 * is signed (HMAC with a server secret every node shares) over the task it
 * belongs to, and a reference a user sends is refused outright.
 *
 * @example
 * const refs = createInputRefs(secret)
 * const ref = refs.write(task.id, 'data', stored.key) // gantry-media:data:<key>:<sig>
 * refs.read(task.id, ref) // { form: 'data', key } — or throws for a ref not written for this task
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { GantryError } from '../errors.js'
import { isMediaKey } from '../store/media-keys.js'

export const REF_PREFIX = 'gantry-media:'

/** How the provider gets the bytes back: a data: URL, or plain base64. */
export type RefForm = 'data' | 'b64'

export const isMediaRef = (v: unknown): v is string => typeof v === 'string' && v.startsWith(REF_PREFIX)

export function createInputRefs(secret: string) {
  const sign = (taskId: string, form: string, key: string) =>
    createHmac('sha256', secret).update(`${taskId}\n${form}\n${key}`).digest('base64url')
  return {
    write(taskId: string, form: RefForm, key: string): string {
      return `${REF_PREFIX}${form}:${key}:${sign(taskId, form, key)}`
    },
    /** The media a reference names; throws VALIDATION_FAILED for one Gantry did not write for this task. */
    read(taskId: string, ref: string): { form: RefForm; key: string } {
      const [form, key, sig, ...rest] = ref.slice(REF_PREFIX.length).split(':')
      const expected = Buffer.from(sign(taskId, form, key ?? ''))
      const given = Buffer.from(sig ?? '')
      const signed = given.length === expected.length && timingSafeEqual(given, expected)
      if (!signed || rest.length || (form !== 'data' && form !== 'b64') || !isMediaKey(key)) {
        // typed by someone, altered in the stored record, or written for another task: never resolved
        throw new GantryError(
          'VALIDATION_FAILED',
          `an input of this task is a ${REF_PREFIX} reference Gantry did not write for it; it is not resolved`,
        )
      }
      return { form, key }
    },
  }
}

/**
 * Refuses (400) any string in `value` that starts with `gantry-media:`, at any depth: only
 * Gantry writes references. Walks without recursion, so deep nesting cannot overflow the stack.
 */
export function refuseMediaRefs(value: unknown, where: string): void {
  const pending: unknown[] = [value]
  while (pending.length) {
    const next = pending.pop()
    if (isMediaRef(next)) {
      throw new GantryError(
        'VALIDATION_FAILED',
        `${where} may not hold ${REF_PREFIX} references: send the media itself (base64, a data: or http(s) URL)`,
      )
    }
    // one push per value: spreading a long array into push() would overflow its arguments
    if (next && typeof next === 'object') for (const v of Object.values(next)) pending.push(v)
  }
}
