/**
 * @module core
 * The public surface of the framework-free core (`consumer-auth/core`): the CRM.COM rules, the ports, the two use
 * cases, the error catalogue. Named exports only: what is listed here is public and follows semver; what the use
 * cases share among themselves (task-either.ts, fromPort and storeUnavailable of ports.ts) and the io-ts toolkit the
 * adapters build their codecs with (codec.ts) are not.
 */
export {
  errorCatalogue, errorNames, authError, errorCode, httpStatusOf, isAuthError, type AuthError, type ErrorName,
} from './errors.js'
export {
  parseRelease, formatRelease, compareRelease, releaseOffer, R15_0_0, R16_2_0, DEFAULT_RELEASE, NOT_A_RELEASE,
  type Release, type ReleaseOffer,
} from './release.js'
export {
  MAX_PARAMETER_LENGTH, MAX_JWT_LENGTH, ParameterString, JwtString, AccessTokenIdentifier, RequestBody, noKey, keyOf,
  nearestName, decodeRequest, type KeyInput, type WireRequest, type ConsumerRequest,
} from './request.js'
export {
  credentialModes, methodNotAvailable, resolveCredentials, type AuthenticationCode, type IdentifierPassCode,
  type IdentityJwt, type Credentials, type CredentialMode,
} from './credentials.js'
export {
  keyClassifications, keyStatuses, accessTokenStates, isAccessTokenUsable, KEY_PREFIX_LENGTH, keyPrefix, type Organisation, type Unit, type User,
  type KeyClassification, type KeyStatus, type WebApiKey, type Consumer, type AccessTokenState, type AccessToken,
  type CodeAccessToken, type IdentifierAccessToken,
  type IdentityProvider, type IdentityLink,
} from './model.js'
export {
  SESSION_LIFETIME_SECONDS, EXPIRY_TOLERANCE_SECONDS, SESSION_ID, newSession, buildClaims, parseClaims,
  type ClaimTimes, type SessionSubject, type ConsumerSession, type SessionClaims,
} from './session.js'
export type {
  Clock, IdSource, SecretDigest, PassCodeHasher, Directory, KeyStore, AccessTokenStore, IdentityClaims,
  IdentityVerification, IdentityVerifier, IdentityLinks, SessionSigner, SessionVerification, SessionVerifier, AuditEvent,
  AuditLog, RevocationCheck, VerificationQueue, QueuePlace,
} from './ports.js'
export {
  addressSubject, afterClaim, afterGiveBack, attemptLimiter, counterClaim, counterKey, countsAsFailedAttempt, defaultLockoutPolicy,
  identifierSubject, keySubject, onSuccess, retryAfterSeconds, type AttemptCount, type AttemptCounter, type AttemptLimiter,
  type AttemptSubject, type Claim, type ClaimOutcome, type CounterClaim, type LockoutPolicy, type SubjectKind,
} from './lockout.js'
export { issueSessionToken, type IssueDeps, type IssueRequest, type IssuedToken } from './issue-session-token.js'
export { verifySessionToken, type VerifyDeps } from './verify-session-token.js'
export {
  revocationOf, readSessionStanding, sessionRevocationCheck, eitherRevocation, type SessionRecord, type SessionStanding,
  type RevocationReason, type RevocationScope, type SessionLedger, type SessionRevocationDeps,
} from './revocation.js'
export { releaseSessionToken, type ReleaseDeps, type ReleaseRequest } from './release-session.js'
