/** A call as its caller makes it: who calls, what they send, what they get back. */

/** One result medium (an image, video or asset). */
export interface MediaItem {
  url: string
  mimeType?: string
  width?: number
  height?: number
  /** Where the provider served it from, when Gantry keeps its own copy. */
  sourceUrl?: string
}

/** Who is calling: the JWT's `sub` and `role`. */
export interface Caller {
  id: string
  role: 'user' | 'admin'
}

/** The body of an invoke (README, HTTP API). */
export interface AbilityInvokePayload {
  inputs?: Record<string, unknown>
  imageUrl?: string
  imageBase64?: string
  images?: string[]
  executorId?: string
  metadata?: Record<string, unknown>
  callbackUrl?: string
  callbackHeaders?: Record<string, string>
}

export interface AbilityInvokeResponse {
  status: 'succeeded' | 'failed'
  logId: string
  taskId?: string
  durationMs: number
  attempts: number
  images: MediaItem[]
  videos: MediaItem[]
  texts: string[]
  assets: MediaItem[]
  cost: { points: number }
  raw: unknown
  metadata?: Record<string, unknown>
  error?: { code: string; message: string }
}
