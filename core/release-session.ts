/**
 * @module release-session
 * Releasing a session (logout, after CRM.COM's `authentication/token/release`): the token is verified as any
 * verifier would (signature, claims, expiry) but without a revocation check, so that releasing a released or
 * otherwise revoked session again is harmless; a session not released yet gets a 'released' audit event, which the
 * revocation rule (revocation.ts) reads from then on.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from './task-either.js'
import type { AuthError } from './errors.js'
import { fromPort, type AuditLog, type Clock, type SessionVerifier } from './ports.js'
import type { SessionLedger } from './revocation.js'
import type { ConsumerSession } from './session.js'
import { verifySessionToken } from './verify-session-token.js'

export interface ReleaseDeps {
  readonly verifier: SessionVerifier
  readonly clock: Clock
  readonly ledger: SessionLedger
  readonly audit: AuditLog
}

export interface ReleaseRequest {
  readonly token: unknown
  readonly clientAddress: string
}

export const releaseSessionToken =
  (deps: ReleaseDeps) =>
  (request: ReleaseRequest): TE.TaskEither<AuthError, ConsumerSession> => {
    const verify = verifySessionToken({ verifier: deps.verifier, clock: deps.clock })
    return pipe(
      verify(request.token),
      TE.tap((session) =>
        pipe(
          fromPort(() => deps.ledger.sessionRecord(session.sessionId)),
          TE.flatMap((record) =>
            record?.released
              ? TE.right(undefined)
              : fromPort(() =>
                  deps.audit.record({
                    type: 'released',
                    at: deps.clock.nowSeconds(),
                    sessionId: session.sessionId,
                    organisation: session.organisation,
                    accountsReceivableId: session.accountsReceivableId,
                    by: 'consumer',
                    expiresAt: session.expiresAt,
                    clientAddress: request.clientAddress,
                  }),
                ),
          ),
        ),
      ),
    )
  }
