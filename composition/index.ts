/**
 * @module consumer-auth
 * The package root (`consumer-auth`): the issuer embedded in a host's Koa app (createConsumerAuth), the stores
 * (openStore by URL, the memory store, the store contract), the typed provisioning document and its import, the
 * session verifier, and the errors an embedder may catch, each with a stable `code`. Named exports only: what is
 * listed here is public and follows semver (see the README's "What is public").
 */
export {
  createConsumerAuth, type ConsumerAuth, type ConsumerAuthOptions, type LockoutOptions,
} from './consumer-auth.js'
export { openStore, type OpenStoreOptions } from '../adapters/embed/open-store.js'
export type { StoreUrl, DatabaseUrl } from '../adapters/store/database-url.js'
export { MemoryStore } from '../adapters/store/memory/memory-store.js'
export type { Store, StoredKey, StoredAuditEvent, AttemptCount, AttemptCounters, Provisioning } from '../adapters/store/store.js'
export { importDocument, type ImportDeps, type ImportSummary, type EntryCount } from '../adapters/provisioning/import.js'
export {
  decodeImportDocument, type ImportDocument, type ImportIssue, type OrganisationEntry, type UnitEntry, type UserEntry,
  type WebApiKeyEntry, type ConsumerEntry, type AccessTokenEntry, type IdentityProviderEntry, type IdentityLinkEntry,
} from '../adapters/provisioning/import-document.js'
export {
  createSessionVerifier, type CreateSessionVerifierOptions, type EmbeddedSessionVerifier, type SessionKeySource,
} from '../adapters/embed/session-verifier.js'
export { databaseRevocationCheck, type DatabaseRevocationCheck } from '../adapters/embed/database-revocation.js'
export type { SessionState } from '../adapters/http/session-middleware.js'
export type { HttpStatusMode } from '../adapters/http/envelope.js'
export type { Secrets } from '../adapters/crypto/secrets-codec.js'
export { ConfigError, ImportError, SecretsError, StoreError, errorCodes } from '../adapters/embed/errors.js'
export type { AuthError, Clock, ConsumerSession, ErrorName } from '../core/index.js'
