/**
 * Test images made with sharp on the spot (nothing from the internet), and
 * the pixel reads the image tests assert on.
 */
import sharp from 'sharp'

export type Rgb = [number, number, number]

/** A red square at (left, top) on a transparent canvas. */
export function redSquareOnTransparent(
  canvas: { width: number; height: number },
  square: { left: number; top: number; size: number },
) {
  const red = { r: 255, g: 0, b: 0, alpha: 1 }
  return sharp({ create: { ...canvas, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([
      {
        input: { create: { width: square.size, height: square.size, channels: 4, background: red } },
        ...square,
      },
    ])
    .png()
    .toBuffer()
}

/** An opaque image of one colour. */
export function solid(width: number, height: number, [r, g, b]: Rgb) {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer()
}

/** A diagonal gradient: every pixel differs from its neighbours, so any overlay shows. */
export function gradient(width: number, height: number) {
  const data = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      data[i] = Math.round((x / width) * 200) + 20
      data[i + 1] = Math.round((y / height) * 200) + 20
      data[i + 2] = 90
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer()
}

/** Dark left half, light right half, blurred: an edge that sharpening makes crisper. */
export async function softEdge(width: number, height: number) {
  const light = {
    create: { width: width / 2, height, channels: 3 as const, background: { r: 200, g: 200, b: 200 } },
  }
  const sharpEdge = await sharp({
    create: { width, height, channels: 3, background: { r: 50, g: 50, b: 50 } },
  })
    .composite([{ input: light, left: width / 2, top: 0 }])
    .png()
    .toBuffer()
  return sharp(sharpEdge).blur(2).png().toBuffer()
}

export const toBase64 = (bytes: Buffer) => bytes.toString('base64')

/** The bytes inside a `data:<mime>;base64,` URL. */
export function bytesOfDataUrl(url: string): Buffer {
  const match = /^data:image\/[\w+.-]+;base64,(.+)$/.exec(url)
  if (!match) throw new Error(`not an image data URL: ${url.slice(0, 40)}`)
  return Buffer.from(match[1], 'base64')
}

export interface Pixels {
  width: number
  height: number
  format: string | undefined
  at(x: number, y: number): Rgb
  /** The mean of R, G and B over the whole image. */
  mean(): number
}

/** Decodes an image to RGB pixels (alpha dropped: every output here is opaque). */
export async function pixelsOf(bytes: Buffer): Promise<Pixels> {
  const { format } = await sharp(bytes).metadata()
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const at = (x: number, y: number): Rgb => {
    const i = (y * info.width + x) * info.channels
    return [data[i], data[i + 1], data[i + 2]]
  }
  const mean = () => data.reduce((sum, v) => sum + v, 0) / data.length
  return { width: info.width, height: info.height, format, at, mean }
}

/** How many pixels of the region differ between two images of the same size. */
export function changedPixels(
  a: Pixels,
  b: Pixels,
  region: { x0: number; y0: number; x1: number; y1: number },
) {
  let changed = 0
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      if (a.at(x, y).some((v, i) => v !== b.at(x, y)[i])) changed++
    }
  }
  return changed
}
