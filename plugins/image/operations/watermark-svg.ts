/**
 * The SVG overlay of a text watermark, the size of the image it covers.
 * Everything from the caller is escaped or checked first: the text goes
 * into XML, and librsvg renders whatever the markup says.
 */

export const POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left', 'center'] as const
export type Position = (typeof POSITIONS)[number]

export interface WatermarkLayout {
  width: number
  height: number
  text: string
  fontSize: number
  opacity: number
  position: Position
  color: string
}

/** A colour safe to put in an attribute: `#rgb(a)`, `#rrggbb(aa)` or a CSS name; no flags, it is a JSON Schema pattern too. */
export const COLOR = /^(?:#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]{3,20})$/

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`)

export function watermarkSvg(w: WatermarkLayout): string {
  // the inset scales with the image, so the mark sits alike on a thumbnail and a poster
  const inset = Math.max(4, Math.round(Math.min(w.width, w.height) * 0.03))
  const [x, anchor] = w.position.endsWith('left')
    ? [inset, 'start']
    : w.position.endsWith('right')
      ? [w.width - inset, 'end']
      : [w.width / 2, 'middle']
  // y is the baseline: descenders need room below it, the cap height above it
  const y = w.position.startsWith('top')
    ? inset + w.fontSize * 0.8
    : w.position.startsWith('bottom')
      ? w.height - inset - w.fontSize * 0.25
      : w.height / 2 + w.fontSize * 0.35
  // a thin dark outline keeps light text readable on a light photo
  const stroke = Math.max(1, w.fontSize / 24)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w.width}" height="${w.height}">`,
    `<text x="${x}" y="${y}" text-anchor="${anchor}" font-family="DejaVu Sans, Noto Sans, Noto Sans CJK SC, Arial, sans-serif"`,
    ` font-size="${w.fontSize}" fill="${w.color}" stroke="#000000" stroke-opacity="0.35" stroke-width="${stroke}"`,
    ` paint-order="stroke" opacity="${w.opacity}">${escapeXml(w.text)}</text>`,
    '</svg>',
  ].join('')
}
