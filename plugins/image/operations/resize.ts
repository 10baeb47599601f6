/**
 * `resize`: to `width` and/or `height`. With one side given the other
 * follows the aspect ratio; `fit` says what happens when both are given.
 */
import { invalidInput } from '../errors.js'
import { enumParam, optionalInteger } from '../params.js'
import { pipelineOf } from '../picture.js'
import type { Operation } from './types.js'

const FITS = ['cover', 'contain', 'inside'] as const

// bars added by `contain` are white: these are product images for white pages
const WHITE = { r: 255, g: 255, b: 255, alpha: 1 }

export const MAX_SIDE = 8192

export const resize: Operation = async function resize(picture, s) {
  const width = optionalInteger(s, 'width', 1, MAX_SIDE)
  const height = optionalInteger(s, 'height', 1, MAX_SIDE)
  if (width === undefined && height === undefined) throw invalidInput('resize needs width or height')
  const fit = enumParam(s, 'fit', FITS, 'inside')
  return pipelineOf(picture).resize({ width, height, fit, background: WHITE })
}
