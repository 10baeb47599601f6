import type { Sharp } from 'sharp'
import type { Settings } from '../params.js'
import type { Picture } from '../picture.js'

/** One operation: a decoded picture and the call's settings in, a pipeline ready to encode out. */
export type Operation = (picture: Picture, settings: Settings) => Promise<Sharp>
