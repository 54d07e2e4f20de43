/**
 * @module ports
 * The capabilities the core asks of the world (docs/architecture.md). Each is a small interface; the use cases take them as
 * one `deps` record, adapters implement them, tests pass plain objects. Ports answer with Promises; the use cases
 * lift them into TaskEither with `fromPort`, and a rejected Promise means the store is unavailable (SERVICEUNAVAILABLE).
 */
import type { CredentialMode } from './credentials.js'
import { authError, type AuthError, type ErrorName } from './errors.js'
import type { AttemptSubject } from './lockout.js'
import type { AccessToken, Consumer, Organisation, User, WebApiKey } from './model.js'
import type { SessionClaims } from './session.js'
import * as TE from './task-either.js'

/** What a port's rejection answers: the store (or a key source) is out of reach; `cause` goes to the log only. */
export const storeUnavailable = (cause: unknown): AuthError => ({
  ...authError('SERVICEUNAVAILABLE', 'The service is temporarily unavailable; try again shortly'),
  cause,
})

/** Lift a port's Promise: a rejection means the store is unavailable. */
export const fromPort = <A>(f: () => Promise<A>): TE.TaskEither<AuthError, A> => TE.tryCatch(f, storeUnavailable)

export interface Clock {
  /** Now, in whole seconds since the epoch. */
  nowSeconds(): number
}

export interface IdSource {
  /** A new session id: 32 upper-case hexadecimal characters from a secure random source. */
  newSessionId(): string
}

/** Keyed digest (HMAC with the deployment's pepper) of keys and authentication codes, so they can be looked up. */
export interface SecretDigest {
  digest(secret: string): string
}

/** Salted, memory-hard hashing of pass codes; verification runs off the event loop. */
export interface PassCodeHasher {
  hash(passCode: string): Promise<string>
  verify(passCode: string, hash: string): Promise<boolean>
  /** Costs what `verify` costs and answers false: for unknown identifiers, so both take the same time. */
  verifyDummy(passCode: string): Promise<false>
}

/**
 * Admission to pass-code verification. scrypt runs on the thread pool that every other asynchronous crypto call
 * (signing and verifying session tokens) shares, so verifications are bounded: at most a few run at once, a few more
 * wait, and an attempt that finds the queue full is answered at once (503) instead of queued without bound.
 */
export interface VerificationQueue {
  /** A place in the queue, or undefined when it is full. */
  enter(): QueuePlace | undefined
}

export interface QueuePlace {
  /** Runs `verification` once a slot is free, then leaves the queue (call once). */
  run<A>(verification: () => Promise<A>): Promise<A>
  /** Leaves without running: the attempt was refused before its credential was checked. */
  leave(): void
}

export interface Directory {
  findOrganisation(id: string): Promise<Organisation | undefined>
  findUser(organisation: string, username: string): Promise<User | undefined>
}

/** The core's one read of a key: the issue use case and the revocation rule both ask this. */
export interface KeyStore {
  /**
   * The key with the user it acts as (`user` absent when that user does not exist), in one look-up (one statement,
   * one round trip on the SQL stores). Undefined when no key has the digest.
   */
  findKeyWithUser(digest: string): Promise<{ readonly key: WebApiKey; readonly user?: User } | undefined>
}

export interface AccessTokenStore {
  /** Access tokens whose authentication code has this digest: in one organisation, or in all when none is given. */
  findByAuthenticationCode(codeDigest: string, organisation?: string): Promise<ReadonlyArray<AccessToken>>
  findByIdentifier(organisation: string, identifier: string): Promise<AccessToken | undefined>
}

export interface IdentityClaims {
  readonly issuer: string
  readonly subject: string
}

export type IdentityVerification = { readonly ok: true; readonly identity: IdentityClaims } | { readonly ok: false; readonly reason: string }

/** Verifies an identity-provider JWT against the providers configured for the deployment. */
export interface IdentityVerifier {
  verify(jwt: string): Promise<IdentityVerification>
}

export interface IdentityLinks {
  findConsumer(issuer: string, subject: string, organisation: string): Promise<Consumer | undefined>
}

export interface SessionSigner {
  sign(claims: SessionClaims): Promise<string>
}

export type SessionVerification =
  | {
      readonly ok: true
      readonly payload: unknown
      /** When the key that signed it was retired (seconds): a token it claims to have signed later is refused. */
      readonly keyRetiredAt?: number
    }
  | { readonly ok: false; readonly reason: string }

/** Checks a session token's signature with the key ring (algorithm pinned) and answers its payload. */
export interface SessionVerifier {
  verify(token: string): Promise<SessionVerification>
}

export type AuditEvent =
  | {
      readonly type: 'issued'
      readonly at: number
      readonly mode: CredentialMode
      readonly sessionId: string
      readonly organisation: string
      readonly contactInformationId: string
      readonly accountsReceivableId: string
      readonly keyPrefix?: string
      /** What produced the session, so that it can be revoked with them (docs/behaviour.md, the token: verification). */
      readonly keyDigest?: string
      readonly accessTokenId?: string
      readonly expiresAt: number
      readonly clientAddress: string
    }
  | {
      readonly type: 'failed'
      readonly at: number
      readonly mode: CredentialMode
      readonly code: ErrorName
      readonly keyPrefix?: string
      readonly organisation?: string
      readonly clientAddress: string
    }
  | {
      readonly type: 'locked_out'
      readonly at: number
      readonly subject: AttemptSubject
      readonly clientAddress: string
    }
  | {
      /** A session released (logged out): by its consumer through the release route, or by an operator. */
      readonly type: 'released'
      readonly at: number
      readonly sessionId: string
      readonly organisation: string
      readonly accountsReceivableId: string
      readonly by: 'consumer' | 'operator'
      /** When the session expires: the event is kept as long as the session's 'issued' one. */
      readonly expiresAt: number
      readonly clientAddress?: string
    }
  | {
      /** An operator cleared a subject's failure count: it may try again at once. */
      readonly type: 'lockout_cleared'
      readonly at: number
      readonly subject: AttemptSubject
      readonly failures: number
    }

/** Never given a secret or a token. */
export interface AuditLog {
  record(event: AuditEvent): Promise<void>
}

/** Is a session still backed by an active key and an effective access token (docs/behaviour.md, the token: verification)? */
export interface RevocationCheck {
  isRevoked(sessionId: string, nowSeconds: number): Promise<boolean>
}
