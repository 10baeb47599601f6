export interface StoredMedia {
  key: string
  mimeType: string
  size: number
}

/**
 * Where result media are kept: files under the data dir by default, rows of the
 * PostgreSQL store when it has one (`core/store/postgres/media-store.ts`).
 */
export interface MediaStore {
  /** Stores bytes under their key; storing them again keeps one copy and counts as stored now. */
  put(bytes: Buffer, mimeType: string): Promise<StoredMedia>
  /** The bytes and the type their key's extension stands for; undefined for an unknown or malformed key. */
  get(key: string): Promise<{ bytes: Buffer; mimeType: string } | undefined>
  /** Retention: removes media stored before `before`; returns how many. */
  removeBefore(before: number): Promise<number>
}
