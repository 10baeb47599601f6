/** The operations by name, as abilities choose them with `operation:`. */
import { enhance } from './enhance.js'
import { resize } from './resize.js'
import type { Operation } from './types.js'
import { watermark } from './watermark.js'
import { whiteBackground } from './white-background.js'

export const OPERATIONS = {
  white_background: whiteBackground,
  enhance,
  resize,
  watermark,
} satisfies Record<string, Operation>

export type OperationName = keyof typeof OPERATIONS

export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[]
