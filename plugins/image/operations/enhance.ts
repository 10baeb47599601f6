/**
 * `enhance`: the "smart enhance" of a product photo, done plainly: a
 * brightness and saturation change, a contrast stretch and a sharpen. Each
 * is neutral at its default, so an ability sets only what it wants.
 */
import { numberParam } from '../params.js'
import { pipelineOf } from '../picture.js'
import type { Operation } from './types.js'

// contrast turns about mid-grey, so raising it does not also brighten the image
const PIVOT = 128

export const enhance: Operation = async function enhance(picture, s) {
  const brightness = numberParam(s, 'brightness', 0.2, 3, 1)
  const saturation = numberParam(s, 'saturation', 0, 3, 1)
  const contrast = numberParam(s, 'contrast', 0.2, 3, 1)
  const offset = numberParam(s, 'offset', -128, 128, 0)
  // a sigma past 10 blurs the mask so wide it halos rather than sharpens
  const sharpen = numberParam(s, 'sharpen', 0, 10, 0)
  let pipeline = pipelineOf(picture).modulate({ brightness, saturation })
  if (contrast !== 1 || offset !== 0) pipeline = pipeline.linear(contrast, PIVOT * (1 - contrast) + offset)
  if (sharpen > 0) pipeline = pipeline.sharpen({ sigma: sharpen })
  return pipeline
}
