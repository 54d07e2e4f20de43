/**
 * @module session-payload
 * The payload of a session token whose signature verified, read back strictly: UTF-8 without invalid bytes, JSON,
 * an object. Shared by every SessionVerifier (the key ring, a remote JWKS); claim shapes are the core's to check.
 */
import { isPlainObject } from '../../core/codec.js'
import type { SessionVerification } from '../../core/index.js'

/** Strict UTF-8: a payload with invalid bytes is not one this service signed. */
const utf8 = new TextDecoder('utf-8', { fatal: true })

export const sessionPayload = (bytes: Uint8Array): SessionVerification => {
  let claims: unknown
  try {
    claims = JSON.parse(utf8.decode(bytes))
  } catch {
    return { ok: false, reason: 'the token payload is not JSON' }
  }
  return isPlainObject(claims) ? { ok: true, payload: claims } : { ok: false, reason: 'the token payload is not a JSON object' }
}
