/**
 * `watermark`: a line of text over the image, bottom-right by default,
 * rendered by librsvg from an SVG overlay. Glyphs come from the fonts
 * fontconfig finds on the host (see README.md for CJK text).
 */
import { invalidInput } from '../errors.js'
import { enumParam, numberParam, optionalInteger, stringParam } from '../params.js'
import { pipelineOf } from '../picture.js'
import type { Operation } from './types.js'
import { COLOR, POSITIONS, watermarkSvg } from './watermark-svg.js'

export const watermark: Operation = async function watermark(picture, s) {
  const text = stringParam(s, 'text', 200)
  if (text === undefined) throw invalidInput('watermark needs text')
  const color = stringParam(s, 'color', 20, '#ffffff') as string
  if (!COLOR.test(color)) throw invalidInput('color must be #rgb, #rrggbb, #rrggbbaa or a colour name')
  // by default a twentieth of the shorter side: legible, not dominant
  const fontSize =
    optionalInteger(s, 'fontSize', 6, 1024) ??
    Math.max(12, Math.round(Math.min(picture.width, picture.height) / 20))
  const svg = watermarkSvg({
    width: picture.width,
    height: picture.height,
    text,
    fontSize,
    color,
    opacity: numberParam(s, 'opacity', 0, 1, 0.5),
    position: enumParam(s, 'position', POSITIONS, 'bottom-right'),
  })
  const marked = pipelineOf(picture).composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
  // compositing adds an alpha channel; an opaque photo stays opaque (and its PNG smaller)
  const opaque = picture.channels === 1 || picture.channels === 3
  return opaque ? marked.removeAlpha() : marked
}
