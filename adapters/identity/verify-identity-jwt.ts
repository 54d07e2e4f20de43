/**
 * @module verify-identity-jwt
 * One identity-provider JWT checked against one provider (docs/behaviour.md, the method: authentication): an allow-listed asymmetric signature from the
 * provider's JWKS, its issuer and audience, `exp`/`nbf` with 30 s tolerance, an `iat` not in the future (same
 * tolerance), a lifetime within the configured maximum, and a subject.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose'
import { MAX_PARAMETER_LENGTH, type IdentityVerification } from '../../core/index.js'
import type { ProviderKeys } from './provider-keys.js'

/** Never `none` and never HS*: a provider's public key must not be usable as an HMAC secret (alg confusion). */
const IDENTITY_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const
const IDENTITY_CLOCK_TOLERANCE_SECONDS = 30
/** A day: far beyond what providers issue (minutes to hours), short enough that a leaked token does not live on. */
export const DEFAULT_IDENTITY_MAX_LIFETIME_SECONDS = 86_400

const refuse = (reason: string): IdentityVerification => ({ ok: false, reason })

const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined

/** Why jose refused, in words that name no part of the token. */
const reasonOf = (e: unknown): string => {
  switch (codeOf(e)) {
    case 'ERR_JWT_EXPIRED':
      return 'the identity token has expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = e instanceof errors.JWTClaimValidationFailed ? e.claim : ''
      if (claim === 'iss') return 'the identity token was not issued by its identity provider'
      if (claim === 'aud') return 'the identity token is not meant for this audience'
      if (claim === 'nbf') return 'the identity token is not valid yet'
      if (claim === 'sub' || claim === 'exp') return `the identity token has no valid ${claim} claim`
      return 'a claim of the identity token is not valid'
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return `the identity token algorithm is not allowed (allowed: ${IDENTITY_ALGORITHMS.join(', ')})`
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no key of the identity provider matches the identity token'
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the identity token signature is not valid'
    case 'ERR_JWT_INVALID':
    case 'ERR_JWS_INVALID':
      return 'the identity token is malformed'
    default:
      return 'the identity token cannot be verified'
  }
}

/**
 * jwtVerify with a key set, also when several keys could match (a token without `kid` during a provider's key
 * rotation): jose then hands over the candidates and each is tried, as its documentation recommends.
 */
const verifyWithKeySet = async (jwt: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> => {
  try {
    return (await jwtVerify(jwt, keys, options)).payload
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e
    for await (const key of e) {
      try {
        return (await jwtVerify(jwt, key, options)).payload
      } catch (inner) {
        if (codeOf(inner) !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw inner
      }
    }
    throw new errors.JWSSignatureVerificationFailed()
  }
}

/**
 * What jose leaves to us: a token issued in the future (a clock that runs ahead, or a token minted to be used later)
 * and one that lives too long, measured as `exp - iat`, or from now when it has no `iat` (jose has checked both are
 * numbers, and `exp` is required).
 */
const timesRefusal = (payload: JWTPayload, nowSeconds: number, maxLifetimeSeconds: number): string | undefined => {
  const { iat, exp } = payload
  if (iat !== undefined && iat > nowSeconds + IDENTITY_CLOCK_TOLERANCE_SECONDS) return 'the identity token was issued in the future'
  const lifetime = (exp ?? Infinity) - (iat ?? nowSeconds)
  if (lifetime > maxLifetimeSeconds) return `the identity token lives longer than the maximum lifetime of ${maxLifetimeSeconds} s`
  return undefined
}

export const verifyIdentityJwt = async (
  jwt: string,
  provider: ProviderKeys,
  nowSeconds: number,
  maxLifetimeSeconds: number = DEFAULT_IDENTITY_MAX_LIFETIME_SECONDS,
): Promise<IdentityVerification> => {
  if (!provider.keys) return refuse('the identity provider has no usable keys')
  let payload: JWTPayload
  try {
    payload = await verifyWithKeySet(jwt, provider.keys, {
      algorithms: [...IDENTITY_ALGORITHMS],
      issuer: provider.issuer,
      audience: provider.audience,
      clockTolerance: IDENTITY_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowSeconds * 1000),
      requiredClaims: ['sub', 'exp'],
    })
  } catch (e) {
    return refuse(reasonOf(e))
  }
  const times = timesRefusal(payload, nowSeconds, maxLifetimeSeconds)
  if (times !== undefined) return refuse(times)
  const { sub } = payload
  // The subject is looked up in the identity links: it must be a usable string, as stored ones are.
  if (typeof sub !== 'string' || sub.trim() === '' || sub.length > MAX_PARAMETER_LENGTH) return refuse('the identity token has no valid sub claim')
  return { ok: true, identity: { issuer: provider.issuer, subject: sub } }
}
