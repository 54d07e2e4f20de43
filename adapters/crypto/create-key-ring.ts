/**
 * @module create-key-ring
 * The signing key ring (SPEC 5, 6): the active key signs session tokens; every key of the ring, retired ones until
 * their last token has expired, verifies them, with the algorithm pinned to the key named by the token's `kid`.
 */
import { compactVerify, decodeProtectedHeader, type JWK } from 'jose'
import type { Clock, SessionClaims, SessionSigner, SessionVerification, SessionVerifier } from '../../core/index.js'
import { checkRing, type Secrets } from './secrets-codec.js'
import { sessionPayload } from './session-payload.js'
import { prepareSigningKey, type PreparedKey } from './signing-key.js'

export interface KeyRing {
  readonly signer: SessionSigner
  readonly verifier: SessionVerifier
  readonly activeKid: string
  readonly alg: string
  /** The public keys of the ring's asymmetric keys still able to verify, for `/.well-known/jwks.json`. */
  publicJwks(): { keys: JWK[] }
}

const refuse = (reason: string): SessionVerification => ({ ok: false, reason })

/**
 * The key a token names, or why it names none. Tokens this ring signed carry byte-for-byte one of the ring's
 * headers, so the common case is one map look-up; anything else is decoded and checked field by field.
 */
const keyFor = (
  token: string,
  byHeader: ReadonlyMap<string, PreparedKey>,
  byKid: ReadonlyMap<string, PreparedKey>,
): PreparedKey | string => {
  const dot = token.indexOf('.')
  const known = dot > 0 ? byHeader.get(token.slice(0, dot)) : undefined
  if (known) return known
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    return 'the token is not a JWS with a readable header'
  }
  const key = typeof header.kid === 'string' ? byKid.get(header.kid) : undefined
  if (!key) return 'unknown or retired key'
  // Pinned: the key decides the algorithm, never the token. This is what refuses `none` and HS/RS confusion.
  if (header.alg !== key.alg) return 'the token algorithm is not the algorithm of its key'
  // Nothing we sign uses `crit` or `b64`; a token that does was not made here.
  if (header.crit !== undefined || header.b64 !== undefined) return 'the token header has parameters this service does not use'
  return key
}

export const createKeyRing = async (secrets: Pick<Secrets, 'signingKeys' | 'activeKid'>, clock: Clock): Promise<KeyRing> => {
  checkRing(secrets)
  // Every key is imported here, once; nothing is imported or encoded per request.
  const keys = await Promise.all(secrets.signingKeys.map(prepareSigningKey))
  const byKid = new Map(keys.map((k) => [k.kid, k] as const))
  const byHeader = new Map(keys.map((k) => [k.encodedHeader, k] as const))
  const active = byKid.get(secrets.activeKid)
  if (!active) throw new Error('unreachable: checkRing guarantees the active key') // keeps the type checker honest
  const headerDot = `${active.encodedHeader}.`
  const sign = active.sign

  const signer: SessionSigner = {
    async sign(claims: SessionClaims): Promise<string> {
      // The claims object is serialised in its own key order (the documented one, from core/session) and with its
      // own types, so string iat/exp (claimTimes "string") come out exactly as given.
      const input = headerDot + Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
      return `${input}.${sign(input)}`
    },
  }

  const verifier: SessionVerifier = {
    async verify(token: string): Promise<SessionVerification> {
      if (typeof token !== 'string') return refuse('the token is not a string')
      const key = keyFor(token, byHeader, byKid)
      if (typeof key === 'string') return refuse(key)
      // Past this point every token of the key has expired: refusing here also stops a leaked retired key.
      if (clock.nowSeconds() >= key.verifiableUntil) return refuse('unknown or retired key')
      let payload: Uint8Array
      try {
        payload = (await compactVerify(token, key.verifyKey, { algorithms: [key.alg] })).payload
      } catch {
        return refuse('the token signature is not valid')
      }
      return sessionPayload(payload)
    },
  }

  const asymmetric = keys.filter((k): k is PreparedKey & { publicJwk: JWK } => k.publicJwk !== undefined)

  return {
    signer,
    verifier,
    activeKid: active.kid,
    alg: active.alg,
    publicJwks: () => {
      const now = clock.nowSeconds()
      // Fresh objects: a caller that decorates the answer must not change what the next caller sees.
      return { keys: asymmetric.filter((k) => now < k.verifiableUntil).map((k) => ({ ...k.publicJwk })) }
    },
  }
}
