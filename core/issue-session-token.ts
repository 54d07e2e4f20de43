/**
 * @module issue-session-token
 * The method itself (SPEC 4-5): validate the request, check the lock-out, authenticate the credential mode against
 * the stores, resolve the unit, build and sign the claims, audit. A TaskEither pipeline over the ports; every
 * failure is an AuthError value, and a store that throws becomes SERVICEUNAVAILABLE.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
// fp-ts's TaskEither, with combinators cheaper per request (task-either.ts).
import * as TE from './task-either.js'
import { resolveCredentials, type AuthenticationCode, type CredentialMode, type Credentials, type IdentifierPassCode, type IdentityJwt } from './credentials.js'
import { identifierSubject } from './attempt-subjects.js'
import { authError, type AuthError } from './errors.js'
import { isAccessTokenUsable, type AccessToken, type User, type WebApiKey } from './model.js'
import type {
  AccessTokenStore, AttemptLimiter, AttemptSubject, AuditLog, Clock, Directory, IdentityLinks, IdentityVerifier, IdSource,
  KeyStore, PassCodeHasher, SecretDigest, SessionSigner,
} from './ports.js'
import type { Release } from './release.js'
import type { WireRequest } from './request.js'
import { buildClaims, newSession, type ClaimTimes, type ConsumerSession, type SessionSubject } from './session.js'

export interface IssueDeps {
  readonly release: Release
  readonly claimTimes: ClaimTimes
  readonly clock: Clock
  readonly ids: IdSource
  readonly digest: SecretDigest
  readonly hasher: PassCodeHasher
  readonly directory: Directory
  readonly keys: KeyStore
  readonly accessTokens: AccessTokenStore
  readonly identity: IdentityVerifier
  readonly identityLinks: IdentityLinks
  readonly limiter: AttemptLimiter
  readonly signer: SessionSigner
  readonly audit: AuditLog
}

export interface IssueRequest extends WireRequest {
  /** The client's address, the throttling subject of keyless modes. */
  readonly clientAddress: string
}

export interface IssuedToken {
  readonly token: string
  readonly session: ConsumerSession
  readonly mode: CredentialMode
}

/** Who authenticated, before the unit is chosen. */
interface Authenticated {
  readonly subject: SessionSubject
  readonly user: User
  readonly accessTokenId?: string
  readonly key?: WebApiKey
}

/** What one attempt is counted against, and what it said about itself for the audit. */
interface Attempt {
  readonly mode: CredentialMode
  /** Counted when the attempt fails. */
  readonly subjects: AttemptSubject[]
  /** Counted before its credential was checked (the identifier, see AttemptLimiter.claim); not counted again. */
  claimed?: { readonly subject: AttemptSubject; readonly reachesThreshold: boolean }
  keyPrefix?: string
  organisation?: string
}

export const storeUnavailable = (cause: unknown): AuthError => ({
  ...authError('SERVICEUNAVAILABLE', 'The service is temporarily unavailable; try again shortly'),
  cause,
})

/** Lift a port's Promise: a rejection means the store is unavailable. */
export const fromPort = <A>(f: () => Promise<A>): TE.TaskEither<AuthError, A> => TE.tryCatch(f, storeUnavailable)

const INVALID_KEY = authError('INVALIDAPPLICATIONKEY', 'The application key (the Basic auth username) is not a valid consumer application key', ['key'])
const INVALID_ACCESS_TOKEN = authError('INVALIDACCESSTOKEN', 'The access_token_identifier does not identify an effective access token', ['access_token_identifier'])
const INVALID_IDENTITY = authError('INVALIDIDENTITYTOKEN', 'The jwt is not a valid identity token linked to a consumer of the organisation', ['jwt'])
const INVALID_ORGANISATION = authError('INVALIDORGANISATION', 'The organisation does not exist', ['organisation'])

/** Failures that count as a failed authentication for the lock-out (SPEC 4); validation errors do not. */
const countsAsFailedAttempt = (e: AuthError): boolean =>
  e.name === 'INVALIDAPPLICATIONKEY' || e.name === 'INVALIDACCESSTOKEN' || e.name === 'INVALIDIDENTITYTOKEN' || e.name === 'INVALIDORGANISATION'

const keyPrefixOf = (key: string): string => key.slice(0, 6)

/** SPEC 4: the key must be ACTIVE and a consumer application key. */
const isUsableKey = (k: WebApiKey): boolean => k.status === 'ACTIVE' && k.classification === 'CONSUMER_APPLICATION_KEY'

export const issueSessionToken = (deps: IssueDeps) => {
  const { clock, digest, directory, keys, accessTokens, hasher, limiter } = deps

  const tooManyAttempts = (wait: number): AuthError => ({
    ...authError('TOOMANYATTEMPTS', `Too many failed attempts; try again in ${wait} seconds`),
    retryAfterSeconds: wait,
  })

  const refuseIfLocked = (subjects: ReadonlyArray<AttemptSubject>): TE.TaskEither<AuthError, void> =>
    pipe(
      fromPort(() => limiter.lockedFor(subjects, clock.nowSeconds())),
      TE.chain((wait) => (wait === undefined ? TE.right(undefined) : TE.left(tooManyAttempts(wait)))),
    )

  /**
   * Counts the attempt against the subject before a slow check (scrypt), so that the threshold holds for a burst of
   * concurrent attempts too; an attempt beyond it is refused unchecked.
   */
  const claimAttempt = (subject: AttemptSubject, attempt: Attempt): TE.TaskEither<AuthError, void> =>
    pipe(
      fromPort(() => limiter.claim(subject, clock.nowSeconds())),
      TE.chain((claim) => {
        if (claim.refusedFor !== undefined) return TE.left(tooManyAttempts(claim.refusedFor))
        attempt.claimed = { subject, reachesThreshold: claim.reachesThreshold }
        return TE.right(undefined)
      }),
    )

  const userOf = (organisation: string, username: string, otherwise: AuthError): TE.TaskEither<AuthError, User> =>
    pipe(
      fromPort(() => directory.findUser(organisation, username)),
      TE.chain((u) => (u ? TE.right(u) : TE.left(otherwise))),
    )

  /**
   * The key is read first; only a usable key becomes a throttling subject (SPEC 4: "per key"). A key that does not
   * exist, is revoked or is not a consumer application key is refused on that one read and counted against nothing:
   * its requests cannot check any credential, so there is nothing to throttle, and counting them would give every
   * random key a counter row of its own (a store-filling flood) and make each of these failures cost a write.
   */
  const authenticateKey = (key: string, attempt: Attempt): TE.TaskEither<AuthError, { key: WebApiKey; user: User }> => {
    const keyDigest = digest.digest(key)
    attempt.keyPrefix = keyPrefixOf(key)
    const usableKey = (k: WebApiKey): TE.TaskEither<AuthError, void> => {
      attempt.organisation = k.organisation
      attempt.subjects.push({ kind: 'key', id: keyDigest })
      return refuseIfLocked(attempt.subjects)
    }
    const findKeyWithUser = keys.findKeyWithUser
    if (findKeyWithUser) {
      // The same checks on the key and its user, read in one look-up.
      return pipe(
        fromPort(() => findKeyWithUser.call(keys, keyDigest)),
        TE.chain((found) => {
          if (!(found && isUsableKey(found.key) && found.user)) return TE.left(INVALID_KEY)
          const pair = { key: found.key, user: found.user }
          return pipe(usableKey(found.key), TE.map(() => pair))
        }),
      )
    }
    return pipe(
      fromPort(() => keys.findKeyByDigest(keyDigest)),
      TE.chain((k) => (k && isUsableKey(k) ? TE.right(k) : TE.left(INVALID_KEY))),
      TE.chain((k) => pipe(userOf(k.organisation, k.user, INVALID_KEY), TE.map((user) => ({ key: k, user })))),
      TE.chainFirst(({ key: k }) => usableKey(k)),
    )
  }

  const consumerSubject = (t: AccessToken, username: string): SessionSubject => ({
    contactInformationId: t.consumer.contactInformationId,
    accountsReceivableId: t.consumer.accountsReceivableId,
    username,
    organisation: t.organisation,
  })

  /** The user keyless and identity-JWT sessions run as. */
  const consumerUserOf = (organisation: string, otherwise: AuthError): TE.TaskEither<AuthError, User> =>
    pipe(
      fromPort(() => directory.findOrganisation(organisation)),
      TE.chain((o) => (o ? userOf(o.id, o.consumerUser, otherwise) : TE.left(otherwise))),
    )

  const authenticationCode = (c: AuthenticationCode, attempt: Attempt): TE.TaskEither<AuthError, Authenticated> => {
    // Digested when it is looked up: not at all for a request refused on its key or a lock-out.
    const codeDigest = () => digest.digest(c.authenticationCode)
    const usable = (t: AccessToken | undefined): TE.TaskEither<AuthError, AccessToken> =>
      t && isAccessTokenUsable(t, clock.nowSeconds()) ? TE.right(t) : TE.left(INVALID_ACCESS_TOKEN)
    if (c.key !== undefined) {
      return pipe(
        authenticateKey(c.key, attempt),
        TE.chain(({ key, user }) =>
          pipe(
            fromPort(() => accessTokens.findByAuthenticationCode(codeDigest(), key.organisation)),
            TE.chain((ts) => usable(ts.length === 1 ? ts[0] : undefined)),
            TE.map((t): Authenticated => ({ subject: consumerSubject(t, user.username), user, accessTokenId: t.id, key })),
          ),
        ),
      )
    }
    // Keyless (R16.2.0+): the code alone names the organisation, so it must match in exactly one.
    return pipe(
      refuseIfLocked(attempt.subjects),
      TE.chain(() => fromPort(() => accessTokens.findByAuthenticationCode(codeDigest()))),
      TE.chain((ts) => usable(ts.length === 1 ? ts[0] : undefined)),
      TE.chain((t) => {
        attempt.organisation = t.organisation
        return pipe(
          consumerUserOf(t.organisation, INVALID_ACCESS_TOKEN),
          TE.map((user): Authenticated => ({ subject: consumerSubject(t, user.username), user, accessTokenId: t.id })),
        )
      }),
    )
  }

  const identifierPassCode = (c: IdentifierPassCode, attempt: Attempt): TE.TaskEither<AuthError, Authenticated> =>
    pipe(
      authenticateKey(c.key, attempt),
      TE.chain(({ key, user }) => {
        const subject = identifierSubject(key.organisation, c.identifier)
        return pipe(
          // Counted now, not after the verification: concurrent attempts must not all pass a check of a count of 0.
          claimAttempt(subject, attempt),
          TE.chain(() => fromPort(() => accessTokens.findByIdentifier(key.organisation, c.identifier))),
          // An unknown identifier costs a dummy verification, so timing does not tell which identifiers exist.
          TE.chain((t) =>
            fromPort(async () => (t?.passCodeHash ? (await hasher.verify(c.passCode, t.passCodeHash)) && t : hasher.verifyDummy(c.passCode))),
          ),
          TE.chain((t) => (t && isAccessTokenUsable(t, clock.nowSeconds()) ? TE.right(t) : TE.left(INVALID_ACCESS_TOKEN))),
          // The credential is right: the identifier's count starts again (also when the unit is then refused).
          TE.chainFirst(() => fromPort(() => limiter.reset(subject))),
          TE.map((t) => ({ subject: consumerSubject(t, user.username), user, accessTokenId: t.id, key })),
        )
      }),
    )

  const identityJwt = (c: IdentityJwt, attempt: Attempt): TE.TaskEither<AuthError, Authenticated> =>
    pipe(
      refuseIfLocked(attempt.subjects),
      TE.chain(() => fromPort(() => directory.findOrganisation(c.organisation))),
      TE.chain((o) => (o ? TE.right(o) : TE.left(INVALID_ORGANISATION))),
      TE.chain((o) => {
        attempt.organisation = o.id
        return pipe(
          fromPort(() => deps.identity.verify(c.jwt)),
          TE.chain((v) => (v.ok ? TE.right(v.identity) : TE.left(INVALID_IDENTITY))),
          TE.chain((id) => fromPort(() => deps.identityLinks.findConsumer(id.issuer, id.subject, o.id))),
          TE.chain((consumer) => (consumer ? TE.right(consumer) : TE.left(INVALID_IDENTITY))),
          TE.chain((consumer) =>
            pipe(
              userOf(o.id, o.consumerUser, INVALID_IDENTITY),
              TE.map((user): Authenticated => ({
                subject: { contactInformationId: consumer.contactInformationId, accountsReceivableId: consumer.accountsReceivableId, username: user.username, organisation: o.id },
                user,
              })),
            ),
          ),
        )
      }),
    )

  const authenticate = (c: Credentials, attempt: Attempt): TE.TaskEither<AuthError, Authenticated> => {
    switch (c._tag) {
      case 'AuthenticationCode':
        return authenticationCode(c, attempt)
      case 'IdentifierPassCode':
        return identifierPassCode(c, attempt)
      case 'IdentityJwt':
        return identityJwt(c, attempt)
    }
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

  /** Count the failure, audit it, and audit any lock-out it caused; the original error goes on to the client. */
  const onFailure = (attempt: Attempt, clientAddress: string) => (e: AuthError): TE.TaskEither<AuthError, never> => {
    if (!countsAsFailedAttempt(e)) {
      return e.name === 'TOOMANYATTEMPTS' || e.name === 'INVALIDUNIT'
        ? pipe(fromPort(() => deps.audit.record({ type: 'failed', at: clock.nowSeconds(), mode: attempt.mode, code: e.name, clientAddress, ...auditContext(attempt) })), TE.chain(() => TE.left(e)))
        : TE.left(e)
    }
    const at = clock.nowSeconds()
    return pipe(
      fromPort(async () => {
        // The count and the `failed` event do not wait for each other (the SQL stores commit them together).
        const [counted] = await Promise.all([
          attempt.subjects.length > 0 ? limiter.recordFailure(attempt.subjects, at) : [],
          deps.audit.record({ type: 'failed', at, mode: attempt.mode, code: e.name, clientAddress, ...auditContext(attempt) }),
        ])
        const locked = attempt.claimed?.reachesThreshold ? [...counted, attempt.claimed.subject] : counted
        for (const subject of locked) await deps.audit.record({ type: 'locked_out', at, subject, clientAddress })
      }),
      TE.chain(() => TE.left(e)),
    )
  }

  return (request: IssueRequest): TE.TaskEither<AuthError, IssuedToken> =>
    pipe(
      TE.fromEither(resolveCredentials(deps.release, request)),
      TE.chain((credentials) => {
        const keyless = credentials._tag === 'IdentityJwt' || (credentials._tag === 'AuthenticationCode' && credentials.key === undefined)
        const attempt: Attempt = { mode: credentials._tag, subjects: keyless ? [{ kind: 'address', id: request.clientAddress }] : [] }
        return pipe(
          authenticate(credentials, attempt),
          TE.chain((who) =>
            pipe(
              TE.fromEither(resolveUnit(who.user, credentials._tag === 'IdentityJwt' ? undefined : credentials.unit)),
              TE.map((unit) => ({ who, unit })),
            ),
          ),
          TE.orElseW(onFailure(attempt, request.clientAddress)),
          TE.chain(({ who, unit }) => {
            const session = newSession(who.subject, unit, clock.nowSeconds(), deps.ids.newSessionId())
            return pipe(
              fromPort(async () => {
                const token = await deps.signer.sign(buildClaims(session, deps.claimTimes))
                await deps.audit.record({
                  type: 'issued',
                  at: session.issuedAt,
                  mode: credentials._tag,
                  sessionId: session.sessionId,
                  organisation: session.organisation,
                  contactInformationId: session.contactInformationId,
                  accountsReceivableId: session.accountsReceivableId,
                  ...(who.key ? { keyPrefix: attempt.keyPrefix, keyDigest: who.key.digest } : {}),
                  ...(who.accessTokenId ? { accessTokenId: who.accessTokenId } : {}),
                  expiresAt: session.expiresAt,
                  clientAddress: request.clientAddress,
                })
                return { token, session, mode: credentials._tag }
              }),
            )
          }),
        )
      }),
    )
}

const auditContext = (a: Attempt) => ({
  ...(a.keyPrefix === undefined ? {} : { keyPrefix: a.keyPrefix }),
  ...(a.organisation === undefined ? {} : { organisation: a.organisation }),
})
