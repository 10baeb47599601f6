/**
 * An event as the SSE text a client receives (`id:`, `event:`, `data:`),
 * formatted once and shared by every stream and replay that sends it, and
 * its size, which bounds the replay window and each stream's queue.
 */
import type { NotifyEvent } from '../model/notify-event.js'

interface Formatted {
  text: string
  bytes: number
}

// keyed by the event: the text lives exactly as long as the event is held somewhere
const formatted = new WeakMap<NotifyEvent, Formatted>()

export const formatFrame = (id: number, event: string, data: unknown) =>
  `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`

function formattedOf(e: NotifyEvent): Formatted {
  let f = formatted.get(e)
  if (!f) {
    const text = formatFrame(e.id, e.type, { type: e.type, payload: e.payload })
    f = { text, bytes: Buffer.byteLength(text) }
    formatted.set(e, f)
  }
  return f
}

/** The event's SSE frame; the same string for every caller. */
export const frameOf = (e: NotifyEvent): string => formattedOf(e).text

/** The UTF-8 size of the event's frame. */
export const frameBytes = (e: NotifyEvent): number => formattedOf(e).bytes
