/**
 * Encoding the processed image. Every operation takes `format` and
 * `quality`; without `format` the output keeps the input's format when it
 * can be written, PNG otherwise (a GIF or TIFF in, say).
 */
import type { Sharp } from 'sharp'
import { enumParam, optionalInteger, type Settings } from './params.js'

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'avif'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

const MIME_TYPES: Record<OutputFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
}

export interface Encoded {
  data: Buffer
  format: OutputFormat
  mimeType: string
  width: number
  height: number
}

export interface OutputOptions {
  format: OutputFormat
  /** For JPEG, WebP and AVIF; PNG is lossless. */
  quality?: number
}

/** The output format and quality a call asked for. */
export function outputOptionsOf(s: Settings, inputFormat: string): OutputOptions {
  const kept = (OUTPUT_FORMATS as readonly string[]).includes(inputFormat)
    ? (inputFormat as OutputFormat)
    : 'png'
  return {
    format: enumParam(s, 'format', OUTPUT_FORMATS, kept),
    quality: optionalInteger(s, 'quality', 1, 100),
  }
}

/** Runs the pipeline into the chosen format. */
export async function encode(pipeline: Sharp, { format, quality }: OutputOptions): Promise<Encoded> {
  const options = format === 'png' || quality === undefined ? {} : { quality }
  const { data, info } = await pipeline.toFormat(format, options).toBuffer({ resolveWithObject: true })
  return { data, format, mimeType: MIME_TYPES[format], width: info.width, height: info.height }
}

export const toDataUrl = (encoded: Encoded) =>
  `data:${encoded.mimeType};base64,${encoded.data.toString('base64')}`
