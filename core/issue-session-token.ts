/**
 * @module issue-session-token
 * The method itself (docs/behaviour.md, the method and the token): validate the request, authenticate its credential mode (core/issue/*.ts: each claims
 * the attempt on its throttling subjects before the credential is checked), settle the claims, resolve the unit,
 * build and sign the claims, audit. A TaskEither pipeline over the ports; every failure is an AuthError value that
 * carries its attempt's context, and a store that throws becomes SERVICEUNAVAILABLE.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from './task-either.js'
import { resolveCredentials, type CredentialMode, type Credentials } from './credentials.js'
import { authError, type AuthError } from './errors.js'
import { authenticationCode } from './issue/authentication-code.js'
import { step, type AttemptContext, type Authenticated, type Failure, type IssueDeps, type ModeInput } from './issue/attempt.js'
import { identifierPassCode } from './issue/identifier-pass-code.js'
import { identityJwt } from './issue/identity-jwt.js'
import { countsAsFailedAttempt } from './lockout.js'
import type { User } from './model.js'
import { fromPort } from './ports.js'
import type { WireRequest } from './request.js'
import { buildClaims, newSession, type ConsumerSession } from './session.js'

export type { IssueDeps } from './issue/attempt.js'

export interface IssueRequest extends WireRequest {
  /** The client's address, the throttling subject of keyless modes. */
  readonly clientAddress: string
}

export interface IssuedToken {
  readonly token: string
  readonly session: ConsumerSession
  readonly mode: CredentialMode
}

const resolveUnit = (user: User, requested: string | undefined): E.Either<AuthError, string> => {
  const unit = requested ?? user.defaultUnit
  if (unit !== undefined && (user.units.includes(unit) || unit === user.defaultUnit)) return E.right(unit)
  return E.left(
    requested === undefined
      ? authError('INVALIDUNIT', `The user ${user.username} has no default unit; give unit`, ['unit'])
      : authError('INVALIDUNIT', `unit ${JSON.stringify(requested)} is not a unit of the organisation that the user ${user.username} belongs to`, ['unit']),
  )
}

const auditContext = (a: AttemptContext) => ({
  ...(a.keyPrefix === undefined ? {} : { keyPrefix: a.keyPrefix }),
  ...(a.organisation === undefined ? {} : { organisation: a.organisation }),
})

export const issueSessionToken = (deps: IssueDeps) => {
  const { audit, limiter } = deps

  const authenticate = (input: ModeInput, c: Credentials, clientAddress: string): TE.TaskEither<Failure, Authenticated> => {
    switch (c._tag) {
      case 'AuthenticationCode':
        return authenticationCode(input, c, clientAddress)
      case 'IdentifierPassCode':
        return identifierPassCode(input, c)
      case 'IdentityJwt':
        return identityJwt(input, c, clientAddress)
    }
  }

  /**
   * A failure that counts keeps its claims (they are the count) and is audited with any lock-out it caused; a refused
   * attempt or unit is audited; any other failure (an outage, a shed pass code) gives its claims back. The original
   * error goes on to the client.
   */
  const onFailure = (mode: CredentialMode, now: number, clientAddress: string) => ({ error, context }: Failure): TE.TaskEither<AuthError, never> => {
    const failed = { type: 'failed' as const, at: now, mode, code: error.name, clientAddress, ...auditContext(context) }
    if (countsAsFailedAttempt(error)) {
      return pipe(
        fromPort(async () => {
          await audit.record(failed)
          for (const c of context.claims) {
            if (c.reachesThreshold) await audit.record({ type: 'locked_out', at: now, subject: c.subject, clientAddress })
          }
        }),
        TE.flatMapEither(() => E.left(error)),
      )
    }
    if (error.name === 'TOOMANYATTEMPTS' || error.name === 'INVALIDUNIT') {
      return pipe(fromPort(() => audit.record(failed)), TE.flatMapEither(() => E.left(error)))
    }
    // Best effort, and not waited for: a store that just failed may fail (or hang on) this too, and the answer must
    // not take a second timeout; the client gets the first error either way.
    if (context.claims.length > 0) void limiter.giveBack(context.claims).catch(() => undefined)
    return TE.left(error)
  }

  const attempt = (credentials: Credentials, request: IssueRequest): TE.TaskEither<AuthError, IssuedToken> => {
    // One moment per request: the claims, the validity of access tokens, the audit and the session all use it.
    const now = deps.clock.nowSeconds()
    const input: ModeInput = { deps, mode: credentials._tag, now }
    return pipe(
      authenticate(input, credentials, request.clientAddress),
      TE.flatMap((who) => {
        // The credential is right: its claims are settled (reset or given back), also when the unit is then
        // refused, which does not count.
        const settled: AttemptContext = { ...who.context, claims: [] }
        const settle = () => limiter.succeeded(who.context.claims)
        const unit = resolveUnit(who.user, credentials._tag === 'IdentityJwt' ? undefined : credentials.unit)
        if (E.isLeft(unit)) return pipe(step(settled, settle), TE.flatMap(() => TE.left<Failure>({ error: unit.left, context: settled })))
        return TE.right({ who, unit: unit.right, settle })
      }),
      TE.orElseW(onFailure(credentials._tag, now, request.clientAddress)),
      TE.flatMap(({ who, unit, settle }) => {
        const session = newSession(who.subject, unit, now, deps.ids.newSessionId())
        return fromPort(async () => {
          const token = await deps.signer.sign(buildClaims(session, deps.claimTimes))
          // Settled beside the `issued` event: on SQLite both go in one group commit.
          await Promise.all([settle(), audit.record({
            type: 'issued',
            at: session.issuedAt,
            mode: credentials._tag,
            sessionId: session.sessionId,
            organisation: session.organisation,
            contactInformationId: session.contactInformationId,
            accountsReceivableId: session.accountsReceivableId,
            ...(who.key ? { keyPrefix: who.context.keyPrefix, keyDigest: who.key.digest } : {}),
            ...(who.accessTokenId ? { accessTokenId: who.accessTokenId } : {}),
            expiresAt: session.expiresAt,
            clientAddress: request.clientAddress,
          })])
          return { token, session, mode: credentials._tag }
        })
      }),
    )
  }

  // A plain branch rather than fromEither + flatMap: a request refused by its parameters costs no step of its own.
  return (request: IssueRequest): TE.TaskEither<AuthError, IssuedToken> => () => {
    try {
      const credentials = resolveCredentials(deps.release, request)
      return E.isLeft(credentials) ? Promise.resolve(credentials) : attempt(credentials.right, request)()
    } catch (e) {
      // As every task of task-either.ts: a step that throws gives a rejected Promise, never a synchronous throw.
      return Promise.reject(e)
    }
  }
}
