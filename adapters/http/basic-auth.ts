/**
 * @module basic-auth
 * The one reader of the `Authorization` header (docs/behaviour.md, the validation matrix): `Basic <base64>` decoding, strictly, to `key:` or `key`.
 * It reports what it found; whether a key is wanted is the core's business.
 */
import { keyOf, noKey, type KeyInput } from '../../core/index.js'

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
const utf8 = new TextDecoder('utf-8', { fatal: true })
/** Far longer than any key with its base64 overhead; bounds the work on hostile headers. */
const MAX_HEADER = 2048

const malformed = (reason: string): KeyInput => ({ _tag: 'MalformedAuthorization', reason })

export const readBasicAuth = (header: string | string[] | undefined): KeyInput => {
  if (header === undefined) return noKey
  if (Array.isArray(header)) return malformed('more than one Authorization header was sent')
  if (header.length > MAX_HEADER) return malformed('the header is too long')
  const space = header.indexOf(' ')
  const scheme = space < 0 ? header : header.slice(0, space)
  if (scheme.toLowerCase() !== 'basic') return malformed(`the scheme must be Basic, not ${JSON.stringify(scheme.slice(0, 20))}`)
  const encoded = header.slice(space + 1).trim()
  if (space < 0 || encoded === '') return malformed('Basic needs base64 credentials after the scheme')
  if (!BASE64.test(encoded)) return malformed('the credentials are not valid base64')
  let text: string
  try {
    text = utf8.decode(Buffer.from(encoded, 'base64'))
  } catch {
    return malformed('the credentials are not valid UTF-8')
  }
  if (CONTROL.test(text)) return malformed('the credentials contain control characters')
  const colon = text.indexOf(':')
  if (colon >= 0 && colon < text.length - 1) return malformed('the password must be empty: send the key as the username followed by a colon')
  return keyOf(colon >= 0 ? text.slice(0, colon) : text)
}
