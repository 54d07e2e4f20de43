/**
 * @module jwks-session-verifier
 * A SessionVerifier for services that hold no secret: session tokens of an ES256 or EdDSA key ring checked against
 * the public keys consumer-auth publishes at `/.well-known/jwks.json`. The key set is kept as long as the
 * server's Cache-Control allows, within a cap (remote-key-set.ts: that is the bound on how long a withdrawn key is
 * still accepted); a token naming a kid the set does not hold (a rotation) makes it fetch again, at most once per
 * cooldown. Tokens that verified are remembered by their text for that key set (verified-token-cache.ts).
 *
 * Only asymmetric algorithms are accepted, and each key only with its own `alg`, so `none` and HS256 made with a
 * public key are refused. Times and claim shapes are the core's to check (verifySessionToken), which also accepts
 * the string times of `claimTimes: "string"` that a JWT library would not.
 */
import type { Clock, SessionVerification, SessionVerifier } from '../../core/index.js'
import { systemClock } from '../clock/system-clock.js'
import { UNKNOWN_KEY, verifyCompact } from './compact-jws.js'
import { remoteKeySet, type KeySet, type RemoteKeySetOptions } from './remote-key-set.js'
import { verifiedTokenCache } from './verified-token-cache.js'

export { JWKS_ALGORITHMS } from './remote-key-set.js'

export interface JwksSessionVerifierOptions extends RemoteKeySetOptions {
  /** How many verified tokens are remembered (default 10,000; 0 checks every signature every time). */
  readonly verifiedTokens?: number
}

/**
 * Verifies against the key set at `url`. A key set that cannot be fetched rejects the Promise, which the core turns
 * into SERVICEUNAVAILABLE: a token is not invalid because its keys are out of reach.
 */
export const jwksSessionVerifier = (url: string | URL, options: JwksSessionVerifierOptions = {}, clock: Clock = systemClock): SessionVerifier => {
  const keySet = remoteKeySet(new URL(url), options, clock)
  const verified = verifiedTokenCache<KeySet>(options.verifiedTokens ?? 10_000)

  const check = (token: string, set: KeySet): SessionVerification => {
    const now = clock.nowSeconds()
    const hit = verified.get(token, set, now)
    if (hit) return hit
    const { verification } = verifyCompact(token, set.lookup)
    verified.set(token, set, verification, now)
    return verification
  }

  return {
    async verify(token: string): Promise<SessionVerification> {
      if (typeof token !== 'string') return { ok: false, reason: 'the token is not a string' }
      const set = keySet.fresh() ?? (await keySet.load())
      const first = check(token, set)
      if (first.ok || first.reason !== UNKNOWN_KEY) return first
      // A kid we do not know may be a key published since our fetch (a rotation): look once more.
      const again = await keySet.reloadForUnknownKid()
      return again ? check(token, again) : first
    },
  }
}
