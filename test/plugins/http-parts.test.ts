import { describe, expect, it } from 'vitest'
import { percentOf } from '../../plugins/http/job-status.js'
import { toMediaItem } from '../../plugins/http/mapping.js'
import { readPath } from '../../plugins/http/paths.js'
import { retryAfterMs } from '../../plugins/http/retry-after.js'
import { renderUrl, renderValue } from '../../plugins/http/template.js'

const scope = { inputs: { n: 3, name: 'a b/c', tags: ['x', 'y'], off: false }, externalId: 'job/1' }

describe('the http provider reading its YAML', () => {
  it('keeps the type of a whole {{x}}, writes text into a longer string, drops what is missing', () => {
    expect(
      renderValue(
        {
          n: '{{ inputs.n }}',
          off: '{{inputs.off}}',
          tags: '{{inputs.tags}}',
          s: 'n={{inputs.n}}!',
          gone: '{{inputs.nope}}',
        },
        scope,
      ),
    ).toEqual({ n: 3, off: false, tags: ['x', 'y'], s: 'n=3!' })
    expect(renderValue(['{{inputs.nope}}', '{{inputs.n}}'], scope)).toEqual([3])
  })

  it('percent-encodes values substituted into a url, so an id cannot add path segments', () => {
    expect(renderUrl('/v1/tasks/{{externalId}}?q={{inputs.name}}&x={{inputs.nope}}', scope)).toBe(
      '/v1/tasks/job%2F1?q=a%20b%2Fc&x=',
    )
  })

  it('reads dotted and indexed paths, never through the prototype', () => {
    const answer = { data: { images: [{ url: 'u0' }, { url: 'u1' }] } }
    expect(readPath(answer, 'data.images[1].url')).toBe('u1')
    expect(readPath(answer, 'data.images.0.url')).toBe('u0')
    expect(readPath(answer, '$')).toBe(answer)
    expect(readPath(answer, 'data.__proto__.constructor')).toBeUndefined()
    expect(readPath(answer, 'data.missing.deeper')).toBeUndefined()
  })

  it('normalizes media items named the many ways platforms name them', () => {
    expect(toMediaItem('https://x/a.png', 'image')).toEqual({ url: 'https://x/a.png' })
    expect(toMediaItem({ image_url: 'i', width: '64', height: 32 }, 'image')).toEqual({
      url: 'i',
      width: 64,
      height: 32,
    })
    expect(toMediaItem({ videoUrl: 'v', content_type: 'video/mp4' }, 'video')).toEqual({
      url: 'v',
      mimeType: 'video/mp4',
    })
    expect(toMediaItem({ b64_json: 'AAAA' }, 'image')).toEqual({ url: 'data:image/png;base64,AAAA' })
    expect(toMediaItem({ caption: 'no url' }, 'image')).toBeUndefined()
  })

  it('reads progress as a fraction or a percent', () => {
    expect(percentOf(0.25)).toBe(25)
    expect(percentOf(40)).toBe(40)
    expect(percentOf('45%')).toBe(45)
    expect(percentOf('0.5')).toBe(50)
    expect(percentOf(250)).toBe(100)
    expect(percentOf('soon')).toBeUndefined()
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-15T10:00:00Z')
    expect(retryAfterMs('2', now)).toBe(2000)
    expect(retryAfterMs('Thu, 15 Jan 2026 10:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('whenever', now)).toBeUndefined()
    expect(retryAfterMs(undefined, now)).toBeUndefined()
  })
})
