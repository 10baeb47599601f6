/**
 * `white_background`: the product centred on white. Transparency is
 * flattened onto white, the near-white border is trimmed, and a white margin
 * is put back. This is not matting: a background that is not already
 * uniform white (or transparent) stays, see README.md.
 */
import { numberParam, optionalInteger } from '../params.js'
import { materialize, pipelineOf } from '../picture.js'
import type { Operation } from './types.js'

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 }

// of the product's longer side: a product photo breathes without shrinking the product much
const DEFAULT_MARGIN_RATIO = 0.05

export const whiteBackground: Operation = async function whiteBackground(picture, s) {
  // how far from pure white a border pixel may be and still count as background
  const threshold = numberParam(s, 'threshold', 1, 254, 10)
  const margin = optionalInteger(s, 'margin', 0, 4096)
  // each step is run to pixels: sharp applies trim before flatten within one pipeline
  const flat = await materialize(pipelineOf(picture).flatten({ background: WHITE }), picture.format)
  const product = await materialize(pipelineOf(flat).trim({ background: WHITE, threshold }), picture.format)
  const pad = margin ?? Math.round(Math.max(product.width, product.height) * DEFAULT_MARGIN_RATIO)
  return pipelineOf(product).extend({ top: pad, bottom: pad, left: pad, right: pad, background: WHITE })
}
