/**
 * @module sql-store
 * The Store over SQL, for SQLite and PostgreSQL, with the semantics of MemoryStore (the store contract suite holds
 * both to them). The request path's statements are declared once (queries.ts, attempt-counters.ts) and run by the
 * engine's executor (executor.ts): prepared straight on the driver, reads batched or cached, writes group-committed.
 * Provisioning, listings and the operator's questions go through Kysely (provisioning-queries.ts,
 * operations-queries.ts, storage-bounds.ts); a transaction's store runs everything on the transaction's connection.
 */
import type { Kysely, KyselyPlugin } from 'kysely'
import {
  sessionRevocationCheck, type AccessToken, type AccessTokenState, type AuditEvent, type Consumer, type CounterClaim, type IdentityLink,
  type IdentityProvider, type KeyStatus, type Organisation, type SessionRecord, type Unit, type User,
} from '../../../core/index.js'
import { recordOf, type Issued } from '../operations.js'
import type { AttemptCount, AuditQuery, SessionSummary, Store, StoredAuditEvent, StoredKey } from '../store.js'
import { claimArguments, claimCanCombine } from './attempt-counters.js'
import type { NativeHandle } from './connect.js'
import { kyselyExecutor, type Executor } from './executor.js'
import { latestMigration } from './migrations.js'
import * as operations from './operations-queries.js'
import { PostgresExecutor } from './postgres-executor.js'
import * as provisioning from './provisioning-queries.js'
import { cachedReads, compileQueries, readsCachedOnceFound, type Queries } from './queries.js'
import { allAccessTokens, firstAccessToken, firstAttempts, firstConsumer, firstKey, firstOrganisation, firstUser, keyWithUser } from './rows.js'
import type { Database, Engine } from './schema.js'
import { ReadCachingExecutor } from './sqlite-read-cache.js'
import { SqliteExecutor } from './sqlite-executor.js'
import { auditRow, pruneAttemptCounters, pruneAuditEvents } from './storage-bounds.js'
import { runTransaction } from './transaction.js'

/** A Kysely plugin that calls `then` once each statement has run, before its caller sees the result. */
const afterEachStatement = (then: () => void): KyselyPlugin => ({
  transformQuery: (args) => args.node,
  transformResult: (args) => {
    then()
    return Promise.resolve(args.result)
  },
})

/** The executor of the request path on the driver: SQLite's with its read cache in front, or PostgreSQL's. */
const executorOn = (native: NativeHandle, q: Queries): Executor =>
  native.engine === 'sqlite'
    ? new ReadCachingExecutor(new SqliteExecutor(native, Object.values(q)), cachedReads(q), readsCachedOnceFound(q))
    : new PostgresExecutor(native.pool)

export class SqlStore implements Store {
  private readonly q: Queries
  private readonly x: Executor
  private readonly db: Kysely<Database>
  private readonly inTransaction: boolean
  /** The record of each unreleased session's 'issued' row read (sessionRecord), for as long as the row object lives. */
  private readonly unreleasedRecords = new WeakMap<object, SessionRecord>()

  /**
   * @param db the database, or the connection of a transaction (then `options.inTransaction` is true)
   * @param options.native the driver under `db` (connect.ts), for the request path's executor; without it (and in
   *   a transaction), every statement runs on its own through Kysely
   * @param options.queries the compiled queries of the parent store (a transaction's store shares them)
   */
  constructor(
    db: Kysely<Database>,
    readonly engine: Engine,
    options: { readonly native?: NativeHandle; readonly queries?: Queries; readonly inTransaction?: boolean } = {},
  ) {
    this.q = options.queries ?? compileQueries(db, engine)
    this.inTransaction = options.inTransaction ?? false
    if (options.native && !this.inTransaction) {
      const x = executorOn(options.native, this.q)
      this.x = x
      // Whatever runs through Kysely on this connection may have written: the executor's cached reads are dropped
      // after each such statement (transactions' statements included: their connection inherits the plugin).
      this.db = db.withPlugin(afterEachStatement(() => x.changed()))
    } else {
      this.x = kyselyExecutor(db)
      this.db = db
    }
  }

  // -- the request path -----------------------------------------------------------------------------------------

  // Plain functions over `.then` rather than async ones: a few microtask hops less per call on the request path.

  findOrganisation(id: string): Promise<Organisation | undefined> {
    return this.x.load(this.q.organisation, [id]).then(firstOrganisation)
  }

  findUser(organisation: string, username: string): Promise<User | undefined> {
    return this.x.load(this.q.user, [organisation, username]).then(firstUser)
  }

  findKeyByDigest(digest: string): Promise<StoredKey | undefined> {
    return this.x.load(this.q.key, [digest]).then(firstKey)
  }

  /** The key and its user with their units, in one statement (one round trip); see KeyStore.findKeyWithUser. */
  findKeyWithUser(digest: string): Promise<{ key: StoredKey; user?: User } | undefined> {
    return this.x.load(this.q.keyWithUser, [digest]).then(keyWithUser)
  }

  findByAuthenticationCode(codeDigest: string, organisation?: string): Promise<ReadonlyArray<AccessToken>> {
    const rows =
      organisation === undefined
        ? this.x.load(this.q.tokensByCode, [codeDigest])
        : this.x.load(this.q.tokensByCodeIn, [codeDigest, organisation])
    return rows.then(allAccessTokens)
  }

  findByIdentifier(organisation: string, identifier: string): Promise<AccessToken | undefined> {
    return this.x.all(this.q.tokenByIdentifier, [organisation, identifier]).then(firstAccessToken)
  }

  findConsumer(issuer: string, subject: string, organisation: string): Promise<Consumer | undefined> {
    return this.x.all(this.q.linkedConsumer, [issuer, subject, organisation]).then(firstConsumer)
  }

  findAccessToken(id: string): Promise<AccessToken | undefined> {
    return this.x.load(this.q.tokenById, [id]).then(firstAccessToken)
  }

  /** Resolves once the event is committed (group-committed with the other writes of the moment). */
  record(event: AuditEvent): Promise<void> {
    const committed = this.x.append(this.q.record, auditRow(event))
    // A release changes a session record the read cache may hold: forgotten once committed, before the caller goes on.
    return event.type === 'released' ? committed.then(() => this.x.changed()) : committed
  }

  getAttempts(subject: string): Promise<AttemptCount | undefined> {
    return this.x.load(this.q.attempts, [subject]).then(firstAttempts)
  }

  /** Combined with the claims on the same subject waiting with it, in one statement (attempt-counters.ts). */
  claimAttempt(subject: string, claim: CounterClaim): Promise<AttemptCount | undefined> {
    const args = claimArguments(subject, claim)
    const q = this.q.claimAttempts
    if (claimCanCombine(claim)) return this.x.combine(q, args)
    return this.x.write(q.statement, [...args, 1]).then((rows) => q.split(rows, 1)[0])
  }

  giveBackAttempt(subject: string, windowStart: number): Promise<void> {
    return this.x.combine(this.q.giveBackAttempts, [subject, windowStart])
  }

  async clearAttempts(subject: string): Promise<void> {
    await this.x.write(this.q.clearAttempts, [subject])
  }

  async sessionRecord(sessionId: string): Promise<SessionRecord | undefined> {
    const [issued, released] = await this.x.load(this.q.sessionEvents, [sessionId])
    if (issued?.type !== 'issued') return undefined
    if (released !== undefined) return recordOf(JSON.parse(issued.payload) as Issued, true)
    // The session route asks on every request, and SQLite's read cache answers with the same row object each time:
    // its payload is parsed once per row, not per request.
    let record = this.unreleasedRecords.get(issued)
    if (record === undefined) {
      record = recordOf(JSON.parse(issued.payload) as Issued, false)
      this.unreleasedRecords.set(issued, record)
    }
    return record
  }

  isRevoked = sessionRevocationCheck({ ledger: this, keys: this, accessTokens: this }).isRevoked

  // -- the operator's questions and the storage bounds --------------------------------------------------------------

  listSessions(organisation: string, accountsReceivableId: string, nowSeconds: number): Promise<ReadonlyArray<SessionSummary>> {
    return operations.listSessions(this.db, this.engine, organisation, accountsReceivableId, nowSeconds)
  }

  listAttemptCounts(): Promise<ReadonlyArray<AttemptCount>> {
    return operations.listAttemptCounts(this.db)
  }

  queryAuditEvents(query: AuditQuery): Promise<ReadonlyArray<StoredAuditEvent>> {
    return operations.queryAuditEvents(this.db, this.engine, query)
  }

  listAuditEvents(sinceId = 0): Promise<ReadonlyArray<StoredAuditEvent>> {
    return operations.listAuditEvents(this.db, sinceId)
  }

  pruneAuditEvents(before: number, now: number, limit: number): Promise<number> {
    return pruneAuditEvents(this.db, before, now, limit)
  }

  pruneAttemptCounters(windowStart: number, limit: number): Promise<number> {
    return pruneAttemptCounters(this.db, windowStart, limit)
  }

  /** Through the group commit on SQLite, so that it fails exactly when the request path's writes would. */
  async checkWritable(): Promise<void> {
    await this.x.write(this.q.writeProbe, [Math.floor(Date.now() / 1000)])
  }

  // -- provisioning (provisioning-queries.ts) -----------------------------------------------------------------------

  upsertOrganisation = (o: Organisation): Promise<void> => provisioning.upsertOrganisation(this.db, o)
  upsertUnit = (u: Unit): Promise<void> => provisioning.upsertUnit(this.db, u)
  upsertUser = (u: User): Promise<void> => this.transaction((s) => provisioning.upsertUser((s as SqlStore).db, u))
  upsertKey = (k: StoredKey): Promise<void> => provisioning.upsertKey(this.db, k)
  setKeyStatus = (digest: string, status: KeyStatus): Promise<boolean> => provisioning.setKeyStatus(this.db, digest, status)
  upsertConsumer = (c: Consumer): Promise<void> => provisioning.upsertConsumer(this.db, c)
  upsertAccessToken = (t: AccessToken): Promise<void> => provisioning.upsertAccessToken(this.db, t)
  setAccessTokenState = (id: string, state: AccessTokenState): Promise<boolean> => provisioning.setAccessTokenState(this.db, id, state)
  upsertIdentityProvider = (p: IdentityProvider): Promise<void> => provisioning.upsertIdentityProvider(this.db, p)
  upsertIdentityLink = (l: IdentityLink): Promise<void> => provisioning.upsertIdentityLink(this.db, l)
  listOrganisations = (): Promise<ReadonlyArray<Organisation>> => provisioning.listOrganisations(this.db)
  listUnits = (organisation?: string): Promise<ReadonlyArray<Unit>> => provisioning.listUnits(this.db, organisation)
  listUsers = (organisation?: string): Promise<ReadonlyArray<User>> => provisioning.listUsers(this.db, organisation)
  listKeys = (organisation?: string): Promise<ReadonlyArray<StoredKey>> => provisioning.listKeys(this.db, organisation)
  listConsumers = (organisation?: string): Promise<ReadonlyArray<Consumer>> => provisioning.listConsumers(this.db, organisation)
  listAccessTokens = (organisation?: string): Promise<ReadonlyArray<AccessToken>> => provisioning.listAccessTokens(this.db, organisation)
  listIdentityProviders = (): Promise<ReadonlyArray<IdentityProvider>> => provisioning.listIdentityProviders(this.db)
  listIdentityLinks = (organisation?: string): Promise<ReadonlyArray<IdentityLink>> => provisioning.listIdentityLinks(this.db, organisation)
  findConsumerByAccountsReceivable = (organisation: string, accountsReceivableId: string): Promise<Consumer | undefined> =>
    provisioning.findConsumerByAccountsReceivable(this.db, organisation, accountsReceivableId)

  // -- the store itself -------------------------------------------------------------------------------------------

  /**
   * All or nothing (transaction.ts). `work` must use the store it is given (its queries run on the transaction's
   * connection; on SQLite the outer store waits for the transaction to end). A transaction inside one joins it.
   */
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this)
    return runTransaction(this.db, this.engine, this.x, (trx) => work(new SqlStore(trx, this.engine, { queries: this.q, inTransaction: true })))
  }

  async ping(): Promise<void> {
    const latest = latestMigration()
    const r = await this.db.selectFrom('schema_migrations').select('name').where('name', '=', latest ?? '').executeTakeFirst()
    if (latest !== undefined && !r) throw new Error(`the database is not migrated to ${latest} (run: consumer-auth migrate)`)
  }

  async close(): Promise<void> {
    if (this.inTransaction) return
    try {
      await this.x.close()
    } finally {
      await this.db.destroy()
    }
  }
}
