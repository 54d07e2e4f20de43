/**
 * @module compact-jws
 * Checking a session token as a compact JWS with node:crypto, synchronously, for every verifier of the service (the
 * key ring, a fetched JWKS): the canonical compact form only, the key chosen by the token's header and pinned to its
 * own algorithm, the signature, and the payload read back strictly. A property test holds it to jose's decisions.
 */
import { decodeProtectedHeader } from 'jose'
import type { SessionVerification } from '../../core/index.js'
import { sessionPayload } from './session-payload.js'

/** A key that can check signatures: what the ring and a fetched key set both hand to `verifyCompact`. */
export interface VerifyingKey {
  readonly kid: string
  readonly alg: string
  /** `base64url({"typ":"JWT","alg":...,"kid":...})`: the header of the tokens this service signs with the key. */
  readonly encodedHeader: string
  /** Does `signature` (the raw bytes) sign `signingInput` (`header.payload`, ASCII)? Never throws. */
  readonly verifySignature: (signingInput: string, signature: Buffer) => boolean
  /** When the key stopped signing, in seconds; tokens it signed later (beyond the tolerance) are refused by the core. */
  readonly retiredAt?: number
}

export interface KeyLookup<K extends VerifyingKey = VerifyingKey> {
  readonly byHeader: ReadonlyMap<string, K>
  readonly byKid: ReadonlyMap<string, K>
}

export const keyLookup = <K extends VerifyingKey>(keys: ReadonlyArray<K>): KeyLookup<K> => ({
  byHeader: new Map(keys.map((k) => [k.encodedHeader, k] as const)),
  byKid: new Map(keys.map((k) => [k.kid, k] as const)),
})

/** 6-bit values of the base64url alphabet by character code; -1 elsewhere. */
const SEXTET = new Int8Array(128).fill(-1)
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) SEXTET[c.charCodeAt(0)] = i

/**
 * Is `part` canonical unpadded base64url: only the 64 characters, a length that whole bytes can have (not 1 mod 4),
 * and the unused low bits of the last character zero? Exactly the texts that re-encode to themselves, so one token
 * has one spelling (no padding, whitespace, `+`/`/`, or other low bits that lax decoders read as the same bytes).
 */
const isCanonicalBase64url = (part: string, from = 0, to = part.length): boolean => {
  const length = to - from
  if (length % 4 === 1) return false
  for (let i = from; i < to; i++) {
    const c = part.charCodeAt(i)
    if (c > 127 || SEXTET[c]! < 0) return false
  }
  if (length === 0) return true
  const last = SEXTET[part.charCodeAt(to - 1)]!
  return length % 4 === 2 ? (last & 0b1111) === 0 : length % 4 === 3 ? (last & 0b11) === 0 : true
}

const refuse = (reason: string): SessionVerification => ({ ok: false, reason })

const NOT_CANONICAL = 'the token is not in the canonical compact form (three unpadded base64url parts)'
export const UNKNOWN_KEY = 'unknown or retired key'

/**
 * The key a token's header names, or why it names none. Tokens this service signed carry byte-for-byte one of the
 * keys' headers, so the common case is one map look-up; anything else is decoded and checked field by field.
 */
const keyFor = <K extends VerifyingKey>(token: string, header: string, keys: KeyLookup<K>): K | string => {
  const known = keys.byHeader.get(header)
  if (known) return known
  let decoded: ReturnType<typeof decodeProtectedHeader>
  try {
    decoded = decodeProtectedHeader(token)
  } catch {
    return 'the token is not a JWS with a readable header'
  }
  const key = typeof decoded.kid === 'string' ? keys.byKid.get(decoded.kid) : undefined
  if (!key) return UNKNOWN_KEY
  // Pinned: the key decides the algorithm, never the token. This is what refuses `none` and HS/RS confusion.
  if (decoded.alg !== key.alg) return 'the token algorithm is not the algorithm of its key'
  // Nothing we sign uses `crit` or `b64`; a token that does was not made here.
  if (decoded.crit !== undefined || decoded.b64 !== undefined) return 'the token header has parameters this service does not use'
  return key
}

/** Where the parts of a canonical compact JWS begin and end, or undefined for anything else. */
const splitCanonical = (token: string): { readonly firstDot: number; readonly secondDot: number } | undefined => {
  const firstDot = token.indexOf('.')
  const secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1)
  if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return undefined
  const canonical =
    isCanonicalBase64url(token, 0, firstDot) && isCanonicalBase64url(token, firstDot + 1, secondDot) && isCanonicalBase64url(token, secondDot + 1)
  return canonical ? { firstDot, secondDot } : undefined
}

/** The verification, and on success the key that verified (a cache of verified tokens needs to know which). */
export interface CompactVerification<K extends VerifyingKey = VerifyingKey> {
  readonly verification: SessionVerification
  readonly key?: K
}

const refused = (reason: string): CompactVerification<never> => ({ verification: refuse(reason) })

/**
 * Verifies `token` against `keys`: the session payload and the key that signed it, or why not. `usable` may refuse a
 * key the header named (a retired key past its last token, say) with its reason.
 */
export const verifyCompact = <K extends VerifyingKey>(
  token: string,
  keys: KeyLookup<K>,
  usable: (key: K) => string | undefined = () => undefined,
): CompactVerification<K> => {
  if (typeof token !== 'string') return refused('the token is not a string')
  const at = splitCanonical(token)
  if (!at) return refused(NOT_CANONICAL)
  const key = keyFor(token, token.slice(0, at.firstDot), keys)
  if (typeof key === 'string') return refused(key)
  const unusable = usable(key)
  if (unusable !== undefined) return refused(unusable)
  if (!key.verifySignature(token.slice(0, at.secondDot), Buffer.from(token.slice(at.secondDot + 1), 'base64url'))) {
    return refused('the token signature is not valid')
  }
  const payload = sessionPayload(Buffer.from(token.slice(at.firstDot + 1, at.secondDot), 'base64url'))
  if (!payload.ok) return { verification: payload }
  return { verification: key.retiredAt === undefined ? payload : { ...payload, keyRetiredAt: key.retiredAt }, key }
}
