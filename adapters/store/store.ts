/**
 * @module store
 * The one store interface every storage adapter implements (memory, SQLite, PostgreSQL): the core's read ports,
 * the audit log, the attempt counters, and the provisioning operations that the CLI and import use. One contract
 * test suite (test/adapters/store-contract.ts) runs against every implementation.
 */
import type {
  AccessToken, AccessTokenState, AttemptCounter, CounterClaim, AccessTokenStore, AuditEvent, AuditLog, Consumer, Directory, IdentityLink, IdentityLinks,
  IdentityProvider, KeyStatus, KeyStore, Organisation, RevocationCheck, SessionLedger, Unit, User, WebApiKey,
} from '../../core/index.js'

export interface StoredKey extends WebApiKey {
  readonly createdAt: number
  readonly lastUsedAt?: number
}

/** One attempt-counter row: failures of a subject inside its current window. */
export interface AttemptCount {
  readonly subject: string
  readonly failures: number
  readonly windowStart: number
}

export interface StoredAuditEvent {
  readonly id: number
  /** The event; for an aggregated row (see audit-buckets.ts), the first event of its bucket. */
  readonly event: AuditEvent
  /** How many events the row stands for: 1, or more for an aggregated row. */
  readonly count: number
  /** The time of the row's latest event (`event.at` when the row stands for one). */
  readonly lastAt: number
}

/**
 * What keeps the store bounded (docs/security.md, "Storage bounds"): the pruning job's deletions, each a small
 * batch, and the write probe behind readiness. Kept apart from the attempt counters' own functions.
 */
export interface StorageBounds {
  /**
   * Deletes at most `limit` audit rows older than `before` (seconds), oldest first; never the `issued` event of a
   * session that has not expired at `now` (the revocation check reads it). Answers how many it deleted.
   */
  pruneAuditEvents(before: number, now: number, limit: number): Promise<number>
  /** Deletes at most `limit` attempt counters whose window started at or before `windowStart` (expired windows). */
  pruneAttemptCounters(windowStart: number, limit: number): Promise<number>
  /** Commits a small write; rejects when the store does not accept writes (read-only, disk full, down). */
  checkWritable(): Promise<void>
}

export interface Provisioning {
  upsertOrganisation(o: Organisation): Promise<void>
  upsertUnit(u: Unit): Promise<void>
  upsertUser(u: User): Promise<void>
  upsertKey(k: StoredKey): Promise<void>
  /** Answers false when no key has that digest. */
  setKeyStatus(digest: string, status: KeyStatus): Promise<boolean>
  upsertConsumer(c: Consumer): Promise<void>
  /** Upsert by id (ids are derived from natural keys, see provisioning/ids.ts). */
  upsertAccessToken(t: AccessToken): Promise<void>
  setAccessTokenState(id: string, state: AccessTokenState): Promise<boolean>
  upsertIdentityProvider(p: IdentityProvider): Promise<void>
  upsertIdentityLink(l: IdentityLink): Promise<void>

  listOrganisations(): Promise<ReadonlyArray<Organisation>>
  listUnits(organisation?: string): Promise<ReadonlyArray<Unit>>
  listUsers(organisation?: string): Promise<ReadonlyArray<User>>
  listKeys(organisation?: string): Promise<ReadonlyArray<StoredKey>>
  listConsumers(organisation?: string): Promise<ReadonlyArray<Consumer>>
  listAccessTokens(organisation?: string): Promise<ReadonlyArray<AccessToken>>
  listIdentityProviders(): Promise<ReadonlyArray<IdentityProvider>>
  listIdentityLinks(organisation?: string): Promise<ReadonlyArray<IdentityLink>>
  /** The key alone (the core reads it with its user, KeyStore.findKeyWithUser): for the import's checks and the CLI. */
  findKeyByDigest(digest: string): Promise<StoredKey | undefined>
  findConsumerByAccountsReceivable(organisation: string, accountsReceivableId: string): Promise<Consumer | undefined>
  findAccessToken(id: string): Promise<AccessToken | undefined>
}

/**
 * Attempt counters, kept in the store so they survive restarts and are shared by instances (docs/behaviour.md, the method: authentication): the core's
 * AttemptCounter (core/lockout.ts holds the rules; a store applies them atomically, across instances too).
 */
export interface AttemptCounters extends AttemptCounter {
  claimAttempt(subject: string, claim: CounterClaim): Promise<AttemptCount | undefined>
  /** The subject's count, or undefined when it has none. */
  getAttempts(subject: string): Promise<AttemptCount | undefined>
}

/** A session as the operator commands list it, from its 'issued' event: never a secret. */
export interface SessionSummary {
  readonly sessionId: string
  readonly issuedAt: number
  readonly expiresAt: number
  readonly mode: string
  readonly organisation: string
  readonly accountsReceivableId: string
  readonly keyPrefix?: string
  readonly released: boolean
}

/** A page of the audit log, newest first: every filter given must hold. */
export interface AuditQuery {
  /** `at` at or after / before (seconds since the epoch). */
  readonly since?: number
  readonly until?: number
  readonly types?: ReadonlyArray<string>
  readonly organisation?: string
  readonly accountsReceivableId?: string
  readonly keyPrefix?: string
  /** Only events with an id below this one (the cursor of the page after). */
  readonly beforeId?: number
  readonly limit: number
}

/** What the operator commands read: sessions, attempt counters, the audit log. */
interface Operations extends SessionLedger {
  /** The sessions of a consumer that have not expired at `nowSeconds`, released ones included, newest first. */
  listSessions(organisation: string, accountsReceivableId: string, nowSeconds: number): Promise<ReadonlyArray<SessionSummary>>
  listAttemptCounts(): Promise<ReadonlyArray<AttemptCount>>
  queryAuditEvents(query: AuditQuery): Promise<ReadonlyArray<StoredAuditEvent>>
}

export interface Store
  extends Directory, KeyStore, AccessTokenStore, IdentityLinks, AuditLog, RevocationCheck, Provisioning, AttemptCounters, StorageBounds,
    Operations {
  listAuditEvents(sinceId?: number): Promise<ReadonlyArray<StoredAuditEvent>>
  /** Runs `work` so that either all of its writes happen or none do. */
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T>
  /** Is the store reachable and migrated? */
  ping(): Promise<void>
  close(): Promise<void>
}
