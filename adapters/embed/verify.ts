/**
 * @module verify
 * The `consumer-auth/verify` entry, for services that only accept session tokens: createSessionVerifier (a key ring,
 * consumer-auth's secrets file or its published JWKS) with its Koa middleware, and a revocation check read from
 * consumer-auth's database by URL. It loads no server dependency: no SQLite or PostgreSQL driver (until a revocation
 * check is first asked, and then only the one its URL names), no pino, no inversify, no metrics (test/package checks).
 * Named exports only; everything here is public and follows semver.
 */
export {
  createSessionVerifier, type CreateSessionVerifierOptions, type EmbeddedSessionVerifier, type SessionKeySource,
} from './session-verifier.js'
export { databaseRevocationCheck, type DatabaseRevocationCheck } from './database-revocation.js'
export { consumerSession, type SessionMiddlewareOptions, type SessionState } from '../http/session-middleware.js'
export { okEnvelope, errorEnvelope, type Envelope, type HttpStatusMode } from '../http/envelope.js'
export { SecretsError, StoreError, errorCodes } from './errors.js'
export type { AuthError, ConsumerSession, RevocationCheck, Clock } from '../../core/index.js'
