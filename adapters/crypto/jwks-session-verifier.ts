/**
 * @module jwks-session-verifier
 * A SessionVerifier for services that hold no secret: session tokens of an ES256 or EdDSA key ring checked against
 * the public keys consumer-auth publishes at `/.well-known/jwks.json` (SPEC 5, 6). The key set is fetched once and
 * cached; a token naming a kid the cache does not hold (a rotation) makes it fetch again, at most once per cooldown.
 *
 * Only asymmetric algorithms are accepted, and each key only with its own `alg` (jose matches the JWK's `alg` with
 * the token's), so `none` and HS256 made with a public key are refused. Times and claim shapes are the core's to check
 * (verifySessionToken), which also accepts the string times of `claimTimes: "string"` that a JWT library would not.
 */
import { compactVerify, createRemoteJWKSet, type RemoteJWKSetOptions } from 'jose'
import type { SessionVerification, SessionVerifier } from '../../core/index.js'
import { sessionPayload } from './session-payload.js'

/** The algorithms a published key can have; HS256 keys are never published. */
export const JWKS_ALGORITHMS = ['ES256', 'EdDSA'] as const

export interface JwksSessionVerifierOptions {
  /** How long fetched keys are used before they are fetched again (default 600 s). */
  readonly cacheSeconds?: number
  /** The least time between two fetches caused by unknown kids (default 30 s). */
  readonly cooldownSeconds?: number
  /** How long a fetch may take (default 5 s). */
  readonly timeoutSeconds?: number
}

const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined

/** Failures that are the token's; anything else (a fetch that failed or timed out, a broken key set) is ours. */
const tokenFault: Readonly<Record<string, string>> = {
  ERR_JWS_INVALID: 'the token is not a JWS with a readable header',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the token algorithm is not allowed',
  ERR_JOSE_NOT_SUPPORTED: 'the token algorithm is not allowed',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown or retired key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'the token names no single key',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the token signature is not valid',
}

/**
 * Verifies against the key set at `url`. A key set that cannot be fetched rejects the Promise, which the core turns
 * into SERVICEUNAVAILABLE: a token is not invalid because its keys are out of reach.
 */
export const jwksSessionVerifier = (url: string | URL, options: JwksSessionVerifierOptions = {}): SessionVerifier => {
  const jwksOptions: RemoteJWKSetOptions = {
    cacheMaxAge: (options.cacheSeconds ?? 600) * 1000,
    cooldownDuration: (options.cooldownSeconds ?? 30) * 1000,
    timeoutDuration: (options.timeoutSeconds ?? 5) * 1000,
  }
  const keys = createRemoteJWKSet(new URL(url), jwksOptions)
  return {
    async verify(token: string): Promise<SessionVerification> {
      if (typeof token !== 'string') return { ok: false, reason: 'the token is not a string' }
      try {
        const { payload } = await compactVerify(token, keys, { algorithms: [...JWKS_ALGORITHMS] })
        return sessionPayload(payload)
      } catch (e) {
        const reason = tokenFault[codeOf(e) ?? '']
        if (reason !== undefined) return { ok: false, reason }
        throw e
      }
    },
  }
}
