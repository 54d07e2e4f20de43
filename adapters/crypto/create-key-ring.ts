/**
 * @module create-key-ring
 * The signing key ring (docs/behaviour.md, the token): the active key signs session tokens; every key of the ring, retired ones until
 * their last token has expired, verifies them, with the algorithm pinned to the key named by the token's `kid`.
 */
import type { JWK } from 'jose'
import type { Clock, SessionClaims, SessionSigner, SessionVerification, SessionVerifier } from '../../core/index.js'
import { keyLookup, UNKNOWN_KEY, verifyCompact } from './compact-jws.js'
import { checkRing, type Secrets } from './secrets-codec.js'
import { prepareSigningKey, type PreparedKey } from './signing-key.js'
import { verifiedTokenCache } from './verified-token-cache.js'

/** How many verified tokens a ring remembers. */
const REMEMBERED_TOKENS = 10_000

export interface KeyRing {
  readonly signer: SessionSigner
  readonly verifier: SessionVerifier
  readonly activeKid: string
  readonly alg: string
  /** The public keys of the ring's asymmetric keys still able to verify, for `/.well-known/jwks.json`. */
  publicJwks(): { keys: JWK[] }
}

export const createKeyRing = async (secrets: Pick<Secrets, 'signingKeys' | 'activeKid'>, clock: Clock): Promise<KeyRing> => {
  checkRing(secrets)
  // Every key is imported here, once; nothing is imported or encoded per request.
  const keys = await Promise.all(secrets.signingKeys.map(prepareSigningKey))
  const lookup = keyLookup(keys)
  const active = keys.find((k) => k.kid === secrets.activeKid)
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

  // Past verifiableUntil every token of the key has expired: refusing there also stops a leaked retired key.
  const usable = (key: PreparedKey) => (clock.nowSeconds() >= key.verifiableUntil ? UNKNOWN_KEY : undefined)
  const asymmetric = keys.filter((k): k is PreparedKey & { publicJwk: JWK } => k.publicJwk !== undefined)
  // A service sees the same token on every request of a session: its signature is checked once, and remembered for
  // this ring (a reload makes a new one), never past its key's verifiableUntil. Under load a look-up here costs a
  // fraction of even an HMAC (createHmac fetches the digest from OpenSSL on every call), let alone ES256/EdDSA.
  const remembered = verifiedTokenCache<'this ring'>(REMEMBERED_TOKENS)
  const verifier: SessionVerifier = {
    // Synchronous inside (node:crypto); the Promise is the port's shape.
    verify: (token: string): Promise<SessionVerification> => {
      const now = clock.nowSeconds()
      const hit = remembered.get(token, 'this ring', now)
      if (hit) return Promise.resolve(hit)
      const { verification, key } = verifyCompact(token, lookup, usable)
      if (key) remembered.set(token, 'this ring', verification, now, key.verifiableUntil)
      return Promise.resolve(verification)
    },
  }

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
