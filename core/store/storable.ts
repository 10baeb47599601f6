/**
 * Strings every store can hold. PostgreSQL's text and jsonb refuse U+0000 and
 * unpaired surrogates (the embedded store would keep them), so Gantry refuses
 * them where they come in, and both stores answer alike.
 */

// with the `u` flag a surrogate pair is one code point, so only unpaired halves match
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is one of the two things it looks for
const UNSTORABLE = /[\u0000\ud800-\udfff]/u

/** Why `s` cannot be stored, or undefined when it can. */
export function unstorable(s: string): string | undefined {
  const found = UNSTORABLE.exec(s)?.[0]
  if (found === undefined) return undefined
  return found === '\u0000'
    ? 'contains U+0000 (NUL), which cannot be stored'
    : 'contains an unpaired surrogate (not valid Unicode), which cannot be stored'
}
