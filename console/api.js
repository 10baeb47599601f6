/** The API client: the token lives in sessionStorage only and goes in the Authorization header, never a URL. */

const TOKEN_KEY = 'gantry.console.token'

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY)
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim())
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY)
  },
  /** The JWT's claims, decoded only to know who is signed in and whether to show the admin view; the server checks them. */
  get claims() {
    const token = this.token
    if (!token) return null
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
      const text = new TextDecoder().decode(Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0)))
      return JSON.parse(text)
    } catch {
      return null
    }
  },
}

/** An error answer of the API: `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' ? body.error : undefined
    super(error?.message ?? (typeof body === 'string' && body ? body : `HTTP ${status}`))
    this.status = status
    this.code = error?.code ?? `HTTP_${status}`
    this.details = error?.details
    this.body = body
  }
}

/** fetch with the bearer token and JSON in and out; throws ApiError on a non-2xx answer. */
export async function api(path, { method, body, headers = {} } = {}) {
  const sent = { ...headers }
  const token = session.token
  if (token) sent.authorization = `Bearer ${token}`
  if (body !== undefined) sent['content-type'] = 'application/json'
  const res = await fetch(path, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let data = text
  try {
    data = text ? JSON.parse(text) : null
  } catch {}
  // a token that expired or was revoked: the shell asks for a new one
  if (res.status === 401 && token) window.dispatchEvent(new CustomEvent('gantry:unauthorized'))
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}

/** '/text' or '/opts/size' from an error detail, whatever shape the server gave it. */
export function detailPointer(detail) {
  const path = detail?.path ?? detail?.instancePath ?? ''
  if (Array.isArray(path)) return path.length ? `/${path.join('/')}` : ''
  return String(path)
}
