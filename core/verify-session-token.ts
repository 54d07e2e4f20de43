/**
 * @module verify-session-token
 * Verification of a session token for the services that accept it (docs/behaviour.md, the token: verification): signature through the key ring
 * (SessionVerifier, algorithm pinned there), claim shapes, expiry with at most 30 s tolerance, no token a retired key
 * signed after its retirement, and optionally whether the key and access token behind the session are still valid.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from './task-either.js'
import { authError, type AuthError } from './errors.js'
import { storeUnavailable, type Clock, type RevocationCheck, type SessionVerification, type SessionVerifier } from './ports.js'
import { EXPIRY_TOLERANCE_SECONDS, parseClaims, type ConsumerSession } from './session.js'

export interface VerifyDeps {
  readonly verifier: SessionVerifier
  readonly clock: Clock
  /** When given, sessions whose key was revoked or whose access token is no longer effective are refused. */
  readonly revocation?: RevocationCheck
}

/** Longer than any token we issue; bounds the work done on hostile input. */
const MAX_TOKEN_LENGTH = 4096

const invalid = (why: string): AuthError => authError('INVALIDTOKEN', `The session token is not valid: ${why}`, ['token'])
const REVOKED = invalid('the session was revoked')

/** The session a verified token stands for, if its claims, times and key allow it at `now`. */
const sessionAt = (v: SessionVerification, now: number): E.Either<AuthError, ConsumerSession> => {
  if (!v.ok) return E.left(invalid(v.reason))
  const parsed = parseClaims(v.payload)
  if (E.isLeft(parsed)) return parsed
  const session = parsed.right
  if (now >= session.expiresAt + EXPIRY_TOLERANCE_SECONDS) return E.left(invalid('the token has expired'))
  if (session.issuedAt > now + EXPIRY_TOLERANCE_SECONDS) return E.left(invalid('the token was issued in the future'))
  // A retired key signs nothing: a token it claims to have signed after its retirement was made with a leaked key.
  if (v.keyRetiredAt !== undefined && session.issuedAt > v.keyRetiredAt + EXPIRY_TOLERANCE_SECONDS) {
    return E.left(invalid('the token was issued after its key was retired'))
  }
  return parsed
}

/**
 * Written as one async function rather than a pipe of TaskEither steps: this runs on every request of every service
 * that accepts the tokens, and each step of a pipe costs a closure and a Promise. The decision itself is `sessionAt`.
 */
export const verifySessionToken = (deps: VerifyDeps) => (token: unknown): TE.TaskEither<AuthError, ConsumerSession> => {
  if (typeof token !== 'string' || token.length === 0) return TE.left(invalid('no token was given'))
  if (token.length > MAX_TOKEN_LENGTH) return TE.left(invalid('the token is too long'))
  const { verifier, clock, revocation } = deps
  return async () => {
    let verified: SessionVerification
    try {
      verified = await verifier.verify(token)
    } catch (e) {
      // Keys out of reach (a JWKS that cannot be fetched): the token is not invalid, the service is unavailable.
      return E.left(storeUnavailable(e))
    }
    const now = clock.nowSeconds()
    const session = sessionAt(verified, now)
    if (E.isLeft(session) || !revocation) return session
    try {
      return (await revocation.isRevoked(session.right.sessionId, now)) ? E.left(REVOKED) : session
    } catch (e) {
      return E.left(storeUnavailable(e))
    }
  }
}
