/**
 * `cancel`: a pending prompt is deleted from the queue; a running one is
 * interrupted, but only while it is ours, since `/interrupt` stops whatever
 * ComfyUI runs at that moment. The `prompt_id` sent with it lets ComfyUI
 * versions that read it check again on their side, which closes the gap
 * between looking at the queue and interrupting.
 */
import type { InvokeContext } from '../../core/contract.js'
import { postJson } from './client.js'
import { forgetProgress } from './progress.js'
import { getQueue, placeOf } from './queue.js'
import { connectionOf } from './settings.js'

export async function cancelPrompt(ctx: InvokeContext, promptId: string): Promise<void> {
  const conn = connectionOf(ctx.config)
  let place = placeOf(await getQueue(conn), promptId)
  if (place.state === 'pending') {
    await postJson(conn, '/queue', { delete: [promptId] })
    // it may have started between the look and the delete
    place = placeOf(await getQueue(conn), promptId)
  }
  if (place.state === 'running') await postJson(conn, '/interrupt', { prompt_id: promptId })
  forgetProgress(promptId)
  ctx.log('canceled the ComfyUI prompt', { promptId, was: place.state })
}
