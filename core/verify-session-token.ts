/**
 * @module verify-session-token
 * Verification of a session token for the services that accept it (SPEC 6): signature through the key ring
 * (SessionVerifier, algorithm pinned there), claim shapes, expiry with at most 30 s tolerance, and optionally
 * whether the key and access token behind the session are still valid.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { authError, type AuthError } from './errors.js'
import { fromPort } from './issue-session-token.js'
import type { Clock, RevocationCheck, SessionVerifier } from './ports.js'
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

export const verifySessionToken = (deps: VerifyDeps) => (token: unknown): TE.TaskEither<AuthError, ConsumerSession> => {
  if (typeof token !== 'string' || token.length === 0) return TE.left(invalid('no token was given'))
  if (token.length > MAX_TOKEN_LENGTH) return TE.left(invalid('the token is too long'))
  return pipe(
    fromPort(() => deps.verifier.verify(token)),
    TE.chain((v) => (v.ok ? TE.fromEither(parseClaims(v.payload)) : TE.left(invalid(v.reason)))),
    TE.chain((session) => {
      const now = deps.clock.nowSeconds()
      if (now >= session.expiresAt + EXPIRY_TOLERANCE_SECONDS) return TE.left(invalid('the token has expired'))
      if (session.issuedAt > now + EXPIRY_TOLERANCE_SECONDS) return TE.left(invalid('the token was issued in the future'))
      const { revocation } = deps
      if (!revocation) return TE.right(session)
      return pipe(
        fromPort(() => revocation.isRevoked(session.sessionId, now)),
        TE.chain((revoked) => (revoked ? TE.left(invalid('the session was revoked')) : TE.right(session))),
      )
    }),
  )
}
