/**
 * A decoded image: raw pixels plus their shape. Decoding once up front
 * means a corrupt or hostile file fails here, as the caller's error, and
 * each operation starts from pixels rather than re-parsing the file.
 */
import sharp, { type Sharp } from 'sharp'

// one libvips thread per call: Gantry's worker pool is what runs images in parallel, and
// libvips threads of its own on top would only fight the pool for the same cores
sharp.concurrency(1)

import { invalidInput } from './errors.js'

export interface Picture {
  data: Buffer
  width: number
  height: number
  channels: 1 | 2 | 3 | 4
  /** The format the image came in, which the output keeps unless told otherwise. */
  format: string
}

// raster formats only: SVG and PDF can reference other files, and nothing here needs them
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff'])

// a 50-megapixel photo decodes to about 200 MB of RGBA; past that one call could starve the others
export const MAX_PIXELS = 50_000_000

/** Decodes `bytes` (upright, per EXIF orientation) or fails with VALIDATION_FAILED. */
export async function decodePicture(bytes: Buffer): Promise<Picture> {
  const image = sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
  let format: string | undefined
  try {
    format = (await image.metadata()).format
  } catch (err) {
    throw invalidInput(`the image could not be decoded: ${(err as Error).message}`)
  }
  if (!format || !ACCEPTED_FORMATS.has(format)) {
    throw invalidInput(`image format '${format}' is not accepted; send ${[...ACCEPTED_FORMATS].join(', ')}`)
  }
  try {
    const { data, info } = await image.autoOrient().raw().toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height, channels: info.channels, format }
  } catch (err) {
    throw invalidInput(`the image could not be decoded: ${(err as Error).message}`)
  }
}

/** A fresh pipeline over a picture's pixels. */
export function pipelineOf(picture: Pick<Picture, 'data' | 'width' | 'height' | 'channels'>): Sharp {
  const { data, width, height, channels } = picture
  return sharp(data, { raw: { width, height, channels } })
}

/** Runs `pipeline` to raw pixels, for an operation whose next step depends on the result's size. */
export async function materialize(pipeline: Sharp, format: string): Promise<Picture> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: info.channels, format }
}
