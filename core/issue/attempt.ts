/**
 * @module issue/attempt
 * What the credential modes of the issue use case share: their dependencies, the failure of an attempt as a value
 * (the error with what the attempt was counted against and what it said about itself for the audit), claiming an
 * attempt on its throttling subjects, and the reads every mode makes. Each mode (key.ts, authentication-code.ts,
 * identifier-pass-code.ts, identity-jwt.ts) builds its context step by step as new values; nothing is mutated.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from '../task-either.js'
import type { CredentialMode } from '../credentials.js'
import { authError, type AuthError } from '../errors.js'
import type { AttemptLimiter, AttemptSubject, Claim } from '../lockout.js'
import type { AccessToken, User, WebApiKey } from '../model.js'
import {
  fromPort, storeUnavailable, type AccessTokenStore, type AuditLog, type Clock, type Directory, type IdentityLinks, type IdentityVerifier, type IdSource,
  type KeyStore, type PassCodeHasher, type SecretDigest, type SessionSigner, type VerificationQueue,
} from '../ports.js'
import type { Release } from '../release.js'
import type { ClaimTimes, SessionSubject } from '../session.js'

export interface IssueDeps {
  readonly release: Release
  readonly claimTimes: ClaimTimes
  readonly clock: Clock
  readonly ids: IdSource
  readonly digest: SecretDigest
  readonly hasher: PassCodeHasher
  /** Bounds the pass-code verifications waiting or running; absent, they are not bounded (tests, embedding). */
  readonly passCodeQueue?: VerificationQueue
  readonly directory: Directory
  readonly keys: KeyStore
  readonly accessTokens: AccessTokenStore
  readonly identity: IdentityVerifier
  readonly identityLinks: IdentityLinks
  readonly limiter: AttemptLimiter
  readonly signer: SessionSigner
  readonly audit: AuditLog
}

/** What an attempt said about itself (for the audit) and the claims it made on its subjects. */
export interface AttemptContext {
  readonly keyPrefix?: string
  readonly organisation?: string
  readonly claims: ReadonlyArray<Claim>
}

export const emptyContext: AttemptContext = { claims: [] }

/** A failed attempt: the error for the client, and its context for the lock-out and the audit. */
export interface Failure {
  readonly error: AuthError
  readonly context: AttemptContext
}

export const failWith =
  (context: AttemptContext) =>
  (error: AuthError): Failure => ({ error, context })

/** Who authenticated, before the unit is chosen, with the context of the attempt that did. */
export interface Authenticated {
  readonly subject: SessionSubject
  readonly user: User
  readonly accessTokenId?: string
  readonly key?: WebApiKey
  readonly context: AttemptContext
}

/** One attempt in one credential mode: the request's moment (read once) and the deps. */
export interface ModeInput {
  readonly deps: IssueDeps
  readonly mode: CredentialMode
  readonly now: number
}

/**
 * A port's Promise within an attempt: its failure carries the attempt's context. What fromPort and then mapError
 * would answer, in one step (one promise, not two, on every read and write of an attempt).
 */
export const step = <A>(context: AttemptContext, f: () => Promise<A>): TE.TaskEither<Failure, A> =>
  TE.tryCatch(f, (reason) => ({ error: storeUnavailable(reason), context }))

export const INVALID_KEY = authError('INVALIDAPPLICATIONKEY', 'The application key (the Basic auth username) is not a valid consumer application key', ['key'])
export const INVALID_ACCESS_TOKEN = authError('INVALIDACCESSTOKEN', 'The access_token_identifier does not identify an effective access token', ['access_token_identifier'])
export const INVALID_IDENTITY = authError('INVALIDIDENTITYTOKEN', 'The jwt is not a valid identity token linked to a consumer of the organisation', ['jwt'])
export const INVALID_ORGANISATION = authError('INVALIDORGANISATION', 'The organisation does not exist', ['organisation'])

const tooManyAttempts = (wait: number): AuthError => ({
  ...authError('TOOMANYATTEMPTS', `Too many failed attempts; try again in ${wait} seconds`),
  retryAfterSeconds: wait,
})

/**
 * Counts the attempt against its subjects before its credential is checked, atomically in the store, so that a burst
 * of concurrent attempts cannot all pass a check of the same count; an attempt beyond a threshold is refused
 * unchecked. Answers the context with the claims added.
 */
export const claimSubjects = (input: ModeInput, context: AttemptContext, subjects: ReadonlyArray<AttemptSubject>): TE.TaskEither<Failure, AttemptContext> =>
  pipe(
    step(context, () => input.deps.limiter.claim(subjects, input.now)),
    TE.flatMapEither((outcome): E.Either<Failure, AttemptContext> =>
      outcome.granted === undefined
        ? E.left({ error: tooManyAttempts(outcome.refusedFor), context })
        : E.right({ ...context, claims: [...context.claims, ...outcome.granted] })),
  )

export const userOf = (deps: IssueDeps, organisation: string, username: string, otherwise: AuthError): TE.TaskEither<AuthError, User> =>
  pipe(fromPort(() => deps.directory.findUser(organisation, username)), TE.flatMap(TE.fromNullable(otherwise)))

export const consumerSubject = (t: AccessToken, username: string): SessionSubject => ({
  contactInformationId: t.consumer.contactInformationId,
  accountsReceivableId: t.consumer.accountsReceivableId,
  username,
  organisation: t.organisation,
})
