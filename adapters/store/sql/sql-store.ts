/**
 * @module sql-store
 * The Store over Kysely: one query layer for SQLite and PostgreSQL, with the semantics of MemoryStore (the store
 * contract suite holds both to them). The queries of the request path are compiled once per store from Kysely's
 * builder and run as prepared statements straight on the driver, their writes group-committed (see hot-path.ts);
 * provisioning and listings go through Kysely.
 */
import { sql, type Kysely, type KyselyPlugin, type Selectable } from 'kysely'
import {
  sessionRevocationCheck, type CounterClaim, type SessionRecord, type AccessToken, type AccessTokenState, type AuditEvent, type Consumer, type IdentityLink,
  type IdentityProvider, type KeyClassification, type KeyStatus, type Organisation, type Unit, type User,
} from '../../../core/index.js'
import { recordOf } from '../operations.js'
import type { AttemptCount, AuditQuery, SessionSummary, Store, StoredAuditEvent, StoredKey } from '../store.js'
import type { NativeHandle } from './connect.js'
import { claimArguments, claimAttempts, claimCanCombine, giveBackAttempts } from './attempt-counters.js'
import { arg, BatchedRead, CombinedWrite, hotPath, Prepared, PreparedInsert, type HotPath, type Param } from './hot-path.js'
import { latestMigration } from './migrations.js'
import * as operations from './operations-queries.js'
import { auditInsert, auditRow, pruneAttemptCounters, pruneAuditEvents, writeProbe } from './storage-bounds.js'
import type {
  AccessTokensTable, AttemptCountersTable, AuditEventsTable, ConsumersTable, Database, Engine, IdentityProvidersTable,
  OrganisationsTable, UnitsTable, WebApiKeysTable,
} from './schema.js'

type AccessTokenRow = Selectable<AccessTokensTable> & Pick<ConsumersTable, 'contact_information_id'>
type UserRow = { organisation: string; username: string; default_unit: string | null; unit: string | null }
/** A key, its user (user_username null when the user does not exist) and one of the user's units per row. */
type KeyWithUserRow = Selectable<WebApiKeysTable> & { user_username: string | null; default_unit: string | null; unit: string | null }

/** Row keys of batched reads: the arguments of the caller a row answers, joined as BatchedRead.keyOf joins them. */
const pair = (a: string | null, b: string | null) => `${a}\u0000${b}`

/**
 * The statements of the request path, compiled once per store; each has a unique name (see hot-path.ts). The
 * batched forms of the reads are PostgreSQL's (arrays and `unnest`); SQLite runs the single forms.
 */
const compileQueries = (db: Kysely<Database>, engine: Engine) => {
  const pg = engine === 'postgres'
  /** PostgreSQL: the column equals one of the values of the i-th argument, a text array. */
  const anyOf = (i: number) => sql<string>`any(${arg(i)}::text[])`
  /** PostgreSQL: the two columns equal one of the pairs of the arguments 0 and 1, two text arrays. */
  const pairIn = (a: string, b: string) =>
    sql<boolean>`(${sql.ref(a)}, ${sql.ref(b)}) in (select * from unnest(${arg(0)}::text[], ${arg(1)}::text[]))`
  const tokens = () =>
    db
      .selectFrom('access_tokens as t')
      .innerJoin('consumers as c', (j) =>
        j.onRef('c.organisation', '=', 't.organisation').onRef('c.accounts_receivable_id', '=', 't.accounts_receivable_id'))
      .selectAll('t')
      .select('c.contact_information_id')
  const keysWithUsers = () =>
    db
      .selectFrom('web_api_keys as k')
      .leftJoin('users as u', (j) => j.onRef('u.organisation', '=', 'k.organisation').onRef('u.username', '=', 'k.username'))
      .leftJoin('user_units as uu', (j) => j.onRef('uu.organisation', '=', 'u.organisation').onRef('uu.username', '=', 'u.username'))
      .selectAll('k')
      .select(['u.username as user_username', 'u.default_unit', 'uu.unit'])
  const users = () =>
    db
      .selectFrom('users as u')
      .leftJoin('user_units as uu', (j) => j.onRef('uu.organisation', '=', 'u.organisation').onRef('uu.username', '=', 'u.username'))
      .select(['u.organisation', 'u.username', 'u.default_unit', 'uu.unit'])
  return {
    organisation: new BatchedRead<Selectable<OrganisationsTable>>(
      new Prepared('ca_organisation', db.selectFrom('organisations').selectAll().where('id', '=', arg(0))),
      pg ? new Prepared('ca_organisations', db.selectFrom('organisations').selectAll().where('id', '=', anyOf(0))) : undefined,
      (r) => r.id,
      true,
    ),
    user: new BatchedRead<UserRow>(
      new Prepared('ca_user', users().where('u.organisation', '=', arg(0)).where('u.username', '=', arg(1)).orderBy('uu.position')),
      pg
        ? new Prepared('ca_users', users().where(pairIn('u.organisation', 'u.username')).orderBy('u.organisation').orderBy('u.username').orderBy('uu.position'))
        : undefined,
      (r) => pair(r.organisation, r.username),
      true,
    ),
    key: new BatchedRead<Selectable<WebApiKeysTable>>(
      new Prepared('ca_key', db.selectFrom('web_api_keys').selectAll().where('digest', '=', arg(0))),
      pg ? new Prepared('ca_keys', db.selectFrom('web_api_keys').selectAll().where('digest', '=', anyOf(0))) : undefined,
      (r) => r.digest,
      true,
    ),
    keyWithUser: new BatchedRead<KeyWithUserRow>(
      new Prepared('ca_key_with_user', keysWithUsers().where('k.digest', '=', arg(0)).orderBy('uu.position')),
      pg ? new Prepared('ca_keys_with_users', keysWithUsers().where('k.digest', '=', anyOf(0)).orderBy('k.digest').orderBy('uu.position')) : undefined,
      (r) => r.digest,
      true,
    ),
    tokensByCode: new BatchedRead<AccessTokenRow>(
      new Prepared('ca_tokens_by_code', tokens().where('t.authentication_code_digest', '=', arg(0)).orderBy('t.id')),
      pg ? new Prepared('ca_tokens_by_codes', tokens().where('t.authentication_code_digest', '=', anyOf(0)).orderBy('t.id')) : undefined,
      (r) => String(r.authentication_code_digest),
      true,
    ),
    tokensByCodeIn: new BatchedRead<AccessTokenRow>(
      new Prepared(
        'ca_tokens_by_code_in',
        tokens().where('t.authentication_code_digest', '=', arg(0)).where('t.organisation', '=', arg(1)).orderBy('t.id'),
      ),
      pg ? new Prepared('ca_tokens_by_codes_in', tokens().where(pairIn('t.authentication_code_digest', 't.organisation')).orderBy('t.id')) : undefined,
      (r) => pair(r.authentication_code_digest, r.organisation),
      true,
    ),
    tokenByIdentifier: new Prepared<AccessTokenRow>(
      'ca_token_by_identifier',
      tokens().where('t.organisation', '=', arg(0)).where('t.identifier', '=', arg(1)).limit(1),
    ),
    tokenById: new BatchedRead<AccessTokenRow>(
      new Prepared('ca_token_by_id', tokens().where('t.id', '=', arg(0))),
      pg ? new Prepared('ca_tokens_by_id', tokens().where('t.id', '=', anyOf(0))) : undefined,
      (r) => r.id,

      true,
    ),
    linkedConsumer: new Prepared<Selectable<ConsumersTable>>(
      'ca_linked_consumer',
      db
        .selectFrom('identity_links as l')
        .innerJoin('consumers as c', (j) =>
          j.onRef('c.organisation', '=', 'l.organisation').onRef('c.accounts_receivable_id', '=', 'l.accounts_receivable_id'))
        .selectAll('c')
        .where('l.issuer', '=', arg(0))
        .where('l.subject', '=', arg(1))
        .where('l.organisation', '=', arg(2)),
    ),
    // Not cached on SQLite: claims change these rows without clearing the read cache (see claimAttempt). A counter
    // given back to 0 counts nothing (its row waits for the pruning job).
    attempts: new BatchedRead<Selectable<AttemptCountersTable>>(
      new Prepared('ca_attempts', db.selectFrom('attempt_counters').selectAll().where('subject', '=', arg(0)).where('failures', '>', 0)),
      pg ? new Prepared('ca_attempts_of', db.selectFrom('attempt_counters').selectAll().where('subject', '=', anyOf(0)).where('failures', '>', 0)) : undefined,
      (r) => r.subject,
    ),
    claimAttempts: claimAttempts(db, engine),
    giveBackAttempts: giveBackAttempts(db, engine),
    clearAttempts: new Prepared<never>('ca_clear_attempts', db.deleteFrom('attempt_counters').where('subject', '=', arg(0))),
    record: auditInsert(db, engine),
    writeProbe: writeProbe(db),
    // A session's 'issued' event comes first; a second row, if any, is its (first) 'released' event.
    sessionEvents: new Prepared<Pick<Selectable<AuditEventsTable>, 'type' | 'payload'>>(
      'ca_session_events',
      db.selectFrom('audit_events').select(['type', 'payload']).where('session_id', '=', arg(0))
        .where('type', 'in', ['issued', 'released']).orderBy('id').limit(2),
    ),
  }
}

type Queries = ReturnType<typeof compileQueries>

/** A Kysely plugin that calls `then` once each statement has run, before its caller sees the result. */
const afterEachStatement = (then: () => void): KyselyPlugin => ({
  transformQuery: (args) => args.node,
  transformResult: (args) => {
    then()
    return Promise.resolve(args.result)
  },
})

const toOrganisation = (r: Selectable<OrganisationsTable>): Organisation => ({ id: r.id, name: r.name, consumerUser: r.consumer_user })
const toUnit = (r: Selectable<UnitsTable>): Unit => ({ organisation: r.organisation, id: r.id, name: r.name })
const toKey = (r: Selectable<WebApiKeysTable>): StoredKey => ({
  digest: r.digest,
  prefix: r.prefix,
  organisation: r.organisation,
  user: r.username,
  classification: r.classification as KeyClassification,
  status: r.status as KeyStatus,
  createdAt: r.created_at,
  ...(r.last_used_at !== null && { lastUsedAt: r.last_used_at }),
})
const toConsumer = (r: Selectable<ConsumersTable>): Consumer => ({
  organisation: r.organisation,
  contactInformationId: r.contact_information_id,
  accountsReceivableId: r.accounts_receivable_id,
})
const toAccessToken = (r: AccessTokenRow): AccessToken => ({
  id: r.id,
  organisation: r.organisation,
  consumer: { organisation: r.organisation, contactInformationId: r.contact_information_id, accountsReceivableId: r.accounts_receivable_id },
  ...(r.authentication_code_digest !== null && { authenticationCodeDigest: r.authentication_code_digest }),
  ...(r.identifier !== null && { identifier: r.identifier }),
  ...(r.pass_code_hash !== null && { passCodeHash: r.pass_code_hash }),
  state: r.state as AccessTokenState,
  ...(r.valid_from !== null && { validFrom: r.valid_from }),
  ...(r.valid_to !== null && { validTo: r.valid_to }),
})
const toProvider = (r: Selectable<IdentityProvidersTable>): IdentityProvider => ({
  issuer: r.issuer,
  audience: r.audience,
  jwks: JSON.parse(r.jwks) as IdentityProvider['jwks'],
})
const toAttempts = (r: Selectable<AttemptCountersTable>): AttemptCount => ({ subject: r.subject, failures: r.failures, windowStart: r.window_start })

/** Users from rows ordered by (organisation, username, position), with their units. */
const groupUsers = (rows: ReadonlyArray<UserRow>): User[] => {
  const users: User[] = []
  let current: { organisation: string; username: string; defaultUnit?: string; units: string[] } | undefined
  for (const r of rows) {
    if (!current || current.organisation !== r.organisation || current.username !== r.username) {
      current = { organisation: r.organisation, username: r.username, ...(r.default_unit !== null && { defaultUnit: r.default_unit }), units: [] }
      users.push(current)
    }
    if (r.unit !== null) current.units.push(r.unit)
  }
  return users
}

const first =
  <R, T>(map: (r: R) => T) =>
  (rows: ReadonlyArray<R>): T | undefined =>
    rows[0] === undefined ? undefined : map(rows[0])
const firstOrganisation = first(toOrganisation)
const firstKey = first(toKey)
const firstAccessToken = first(toAccessToken)
const firstConsumer = first(toConsumer)
const firstAttempts = first(toAttempts)
const firstUser = (rows: ReadonlyArray<UserRow>): User | undefined => groupUsers(rows)[0]
const keyWithUser = (rows: ReadonlyArray<KeyWithUserRow>): { key: StoredKey; user?: User } | undefined => {
  const r = rows[0]
  if (r === undefined) return undefined
  const key = toKey(r)
  if (r.user_username === null) return { key }
  const units: string[] = []
  for (const x of rows) if (x.unit !== null) units.push(x.unit)
  return { key, user: { organisation: r.organisation, username: r.user_username, ...(r.default_unit !== null && { defaultUnit: r.default_unit }), units } }
}
const allAccessTokens = (rows: ReadonlyArray<AccessTokenRow>): AccessToken[] => rows.map(toAccessToken)

export class SqlStore implements Store {
  private readonly q: Queries
  private readonly inTransaction: boolean
  /** The driver-level path of the request statements; absent on a store bound to a transaction's connection. */
  private readonly hot: HotPath | undefined

  /**
   * @param db the database, or the connection of a transaction (then `options.inTransaction` is true)
   * @param options.native the driver under `db` (connect.ts), for the request path's prepared statements; without
   *   it, every statement goes through Kysely
   * @param options.queries the compiled queries of the parent store (a transaction's store shares them)
   */
  private readonly db: Kysely<Database>

  constructor(
    db: Kysely<Database>,
    readonly engine: Engine,
    options: { readonly native?: NativeHandle; readonly queries?: Queries; readonly inTransaction?: boolean } = {},
  ) {
    this.q = options.queries ?? compileQueries(db, engine)
    this.inTransaction = options.inTransaction ?? false
    const hot = options.native && !this.inTransaction ? hotPath(options.native, Object.values(this.q)) : undefined
    this.hot = hot
    // Whatever runs through Kysely on this connection may have written: the hot path's cached reads are dropped
    // after each such statement (transactions' statements included: their connection inherits the plugin).
    this.db = hot ? db.withPlugin(afterEachStatement(() => hot.changed())) : db
  }

  private rows<R>(q: Prepared<R> | BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    if (q instanceof BatchedRead) return this.hot ? this.hot.load(q, args) : q.one.run(this.db, args)
    return this.hot ? this.hot.all(q, args) : q.run(this.db, args)
  }

  private write<R>(q: Prepared<R>, args: ReadonlyArray<Param>, changesCachedRows = true): Promise<R[]> {
    return this.hot ? this.hot.write(q, args, changesCachedRows) : q.run(this.db, args)
  }

  private combine<R, O>(q: CombinedWrite<R, O>, args: ReadonlyArray<Param>): Promise<O> {
    if (this.hot) return this.hot.combine(q, args)
    return q.statement.run(this.db, [...args, 1]).then((rows) => q.split(rows, 1)[0] as O)
  }

  // -- the request path -----------------------------------------------------------------------------------------

  // Plain functions over `.then` rather than async ones: a few microtask hops less per call on the request path.

  findOrganisation(id: string): Promise<Organisation | undefined> {
    return this.rows(this.q.organisation, [id]).then(firstOrganisation)
  }

  findUser(organisation: string, username: string): Promise<User | undefined> {
    return this.rows(this.q.user, [organisation, username]).then(firstUser)
  }

  findKeyByDigest(digest: string): Promise<StoredKey | undefined> {
    return this.rows(this.q.key, [digest]).then(firstKey)
  }

  /** The key and its user with their units, in one statement (one round trip); see KeyStore.findKeyWithUser. */
  findKeyWithUser(digest: string): Promise<{ key: StoredKey; user?: User } | undefined> {
    return this.rows(this.q.keyWithUser, [digest]).then(keyWithUser)
  }

  findByAuthenticationCode(codeDigest: string, organisation?: string): Promise<ReadonlyArray<AccessToken>> {
    const rows =
      organisation === undefined
        ? this.rows(this.q.tokensByCode, [codeDigest])
        : this.rows(this.q.tokensByCodeIn, [codeDigest, organisation])
    return rows.then(allAccessTokens)
  }

  findByIdentifier(organisation: string, identifier: string): Promise<AccessToken | undefined> {
    return this.rows(this.q.tokenByIdentifier, [organisation, identifier]).then(firstAccessToken)
  }

  findConsumer(issuer: string, subject: string, organisation: string): Promise<Consumer | undefined> {
    return this.rows(this.q.linkedConsumer, [issuer, subject, organisation]).then(firstConsumer)
  }

  /** Resolves once the event is committed (group-committed with the other writes of the moment, see hot-path.ts). */
  async record(event: AuditEvent): Promise<void> {
    const row = auditRow(event)
    if (this.hot) await this.hot.append(this.q.record, row)
    else await this.q.record.one.run(this.db, row)
  }

  getAttempts(subject: string): Promise<AttemptCount | undefined> {
    return this.rows(this.q.attempts, [subject]).then(firstAttempts)
  }

  /**
   * Combined with the claims on the same subject waiting with it, in one statement (attempt-counters.ts);
   * group-committed on SQLite like the audit. The tables of the read cache are untouched, so it is kept.
   */
  claimAttempt(subject: string, claim: CounterClaim): Promise<AttemptCount | undefined> {
    const args = claimArguments(subject, claim)
    if (claimCanCombine(claim)) return this.combine(this.q.claimAttempts, args)
    return this.write(this.q.claimAttempts.statement, [...args, 1], false).then((rows) => this.q.claimAttempts.split(rows, 1)[0])
  }

  giveBackAttempt(subject: string, windowStart: number): Promise<void> {
    return this.combine(this.q.giveBackAttempts, [subject, windowStart])
  }

  async clearAttempts(subject: string): Promise<void> {
    await this.write(this.q.clearAttempts, [subject])
  }

  async sessionRecord(sessionId: string): Promise<SessionRecord | undefined> {
    const [issued, released] = await this.rows(this.q.sessionEvents, [sessionId])
    if (issued?.type !== 'issued') return undefined
    return recordOf(JSON.parse(issued.payload) as Extract<AuditEvent, { type: 'issued' }>, released !== undefined)
  }

  isRevoked = sessionRevocationCheck({ ledger: this, keys: this, accessTokens: this }).isRevoked

  listSessions(organisation: string, accountsReceivableId: string, nowSeconds: number): Promise<ReadonlyArray<SessionSummary>> {
    return operations.listSessions(this.db, this.engine, organisation, accountsReceivableId, nowSeconds)
  }

  listAttemptCounts(): Promise<ReadonlyArray<AttemptCount>> {
    return operations.listAttemptCounts(this.db)
  }

  queryAuditEvents(query: AuditQuery): Promise<ReadonlyArray<StoredAuditEvent>> {
    return operations.queryAuditEvents(this.db, this.engine, query)
  }

  async listAuditEvents(sinceId = 0): Promise<ReadonlyArray<StoredAuditEvent>> {
    const rows = await this.db
      .selectFrom('audit_events')
      .select(['id', 'payload', 'occurrences', 'at', 'last_at'])
      .where('id', '>', sinceId)
      .orderBy('id')
      .execute()
    return rows.map((r) => ({ id: r.id, event: JSON.parse(r.payload) as AuditEvent, count: r.occurrences, lastAt: r.last_at ?? r.at }))
  }

  // -- storage bounds (storage-bounds.ts) ---------------------------------------------------------------------------

  pruneAuditEvents(before: number, now: number, limit: number): Promise<number> {
    return pruneAuditEvents(this.db, before, now, limit)
  }

  pruneAttemptCounters(windowStart: number, limit: number): Promise<number> {
    return pruneAttemptCounters(this.db, windowStart, limit)
  }

  /** Through the group commit on SQLite, so that it fails exactly when the request path's writes would. */
  async checkWritable(): Promise<void> {
    await this.write(this.q.writeProbe, [Math.floor(Date.now() / 1000)])
  }

  // -- provisioning -----------------------------------------------------------------------------------------------

  async upsertOrganisation(o: Organisation): Promise<void> {
    await this.db
      .insertInto('organisations')
      .values({ id: o.id, name: o.name, consumer_user: o.consumerUser })
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), consumer_user: eb.ref('excluded.consumer_user') })))
      .execute()
  }

  async upsertUnit(u: Unit): Promise<void> {
    await this.db
      .insertInto('units')
      .values({ organisation: u.organisation, id: u.id, name: u.name })
      .onConflict((oc) => oc.columns(['organisation', 'id']).doUpdateSet((eb) => ({ name: eb.ref('excluded.name') })))
      .execute()
  }

  async upsertUser(u: User): Promise<void> {
    await this.transaction(async (s) => {
      const db = (s as SqlStore).db
      await db
        .insertInto('users')
        .values({ organisation: u.organisation, username: u.username, default_unit: u.defaultUnit ?? null })
        .onConflict((oc) => oc.columns(['organisation', 'username']).doUpdateSet((eb) => ({ default_unit: eb.ref('excluded.default_unit') })))
        .execute()
      await db.deleteFrom('user_units').where('organisation', '=', u.organisation).where('username', '=', u.username).execute()
      const units = [...new Set(u.units)]
      if (units.length > 0) {
        await db
          .insertInto('user_units')
          .values(units.map((unit, position) => ({ organisation: u.organisation, username: u.username, unit, position })))
          .execute()
      }
    })
  }

  async upsertKey(k: StoredKey): Promise<void> {
    await this.db
      .insertInto('web_api_keys')
      .values({
        digest: k.digest,
        prefix: k.prefix,
        classification: k.classification,
        status: k.status,
        organisation: k.organisation,
        username: k.user,
        created_at: k.createdAt,
        last_used_at: k.lastUsedAt ?? null,
      })
      .onConflict((oc) =>
        oc.column('digest').doUpdateSet((eb) => ({
          prefix: eb.ref('excluded.prefix'),
          classification: eb.ref('excluded.classification'),
          status: eb.ref('excluded.status'),
          organisation: eb.ref('excluded.organisation'),
          username: eb.ref('excluded.username'),
          created_at: eb.ref('excluded.created_at'),
          last_used_at: eb.ref('excluded.last_used_at'),
        })))
      .execute()
  }

  async setKeyStatus(digest: string, status: KeyStatus): Promise<boolean> {
    const r = await this.db.updateTable('web_api_keys').set({ status }).where('digest', '=', digest).executeTakeFirst()
    return r.numUpdatedRows > 0n
  }

  async upsertConsumer(c: Consumer): Promise<void> {
    await this.db
      .insertInto('consumers')
      .values({ organisation: c.organisation, accounts_receivable_id: c.accountsReceivableId, contact_information_id: c.contactInformationId })
      .onConflict((oc) =>
        oc.columns(['organisation', 'accounts_receivable_id']).doUpdateSet((eb) => ({ contact_information_id: eb.ref('excluded.contact_information_id') })))
      .execute()
  }

  async upsertAccessToken(t: AccessToken): Promise<void> {
    await this.db
      .insertInto('access_tokens')
      .values({
        id: t.id,
        organisation: t.organisation,
        accounts_receivable_id: t.consumer.accountsReceivableId,
        authentication_code_digest: t.authenticationCodeDigest ?? null,
        identifier: t.identifier ?? null,
        pass_code_hash: t.passCodeHash ?? null,
        state: t.state,
        valid_from: t.validFrom ?? null,
        valid_to: t.validTo ?? null,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          organisation: eb.ref('excluded.organisation'),
          accounts_receivable_id: eb.ref('excluded.accounts_receivable_id'),
          authentication_code_digest: eb.ref('excluded.authentication_code_digest'),
          identifier: eb.ref('excluded.identifier'),
          pass_code_hash: eb.ref('excluded.pass_code_hash'),
          state: eb.ref('excluded.state'),
          valid_from: eb.ref('excluded.valid_from'),
          valid_to: eb.ref('excluded.valid_to'),
        })))
      .execute()
  }

  async setAccessTokenState(id: string, state: AccessTokenState): Promise<boolean> {
    const r = await this.db.updateTable('access_tokens').set({ state }).where('id', '=', id).executeTakeFirst()
    return r.numUpdatedRows > 0n
  }

  async upsertIdentityProvider(p: IdentityProvider): Promise<void> {
    await this.db
      .insertInto('identity_providers')
      .values({ issuer: p.issuer, audience: p.audience, jwks: JSON.stringify(p.jwks) })
      .onConflict((oc) => oc.column('issuer').doUpdateSet((eb) => ({ audience: eb.ref('excluded.audience'), jwks: eb.ref('excluded.jwks') })))
      .execute()
  }

  async upsertIdentityLink(l: IdentityLink): Promise<void> {
    await this.db
      .insertInto('identity_links')
      .values({ issuer: l.issuer, subject: l.subject, organisation: l.organisation, accounts_receivable_id: l.accountsReceivableId })
      .onConflict((oc) =>
        oc.columns(['issuer', 'subject', 'organisation']).doUpdateSet((eb) => ({ accounts_receivable_id: eb.ref('excluded.accounts_receivable_id') })))
      .execute()
  }

  async listOrganisations(): Promise<ReadonlyArray<Organisation>> {
    return (await this.db.selectFrom('organisations').selectAll().orderBy('id').execute()).map(toOrganisation)
  }

  async listUnits(organisation?: string): Promise<ReadonlyArray<Unit>> {
    let q = this.db.selectFrom('units').selectAll()
    if (organisation !== undefined) q = q.where('organisation', '=', organisation)
    return (await q.orderBy('organisation').orderBy('id').execute()).map(toUnit)
  }

  async listUsers(organisation?: string): Promise<ReadonlyArray<User>> {
    let q = this.db
      .selectFrom('users as u')
      .leftJoin('user_units as uu', (j) => j.onRef('uu.organisation', '=', 'u.organisation').onRef('uu.username', '=', 'u.username'))
      .select(['u.organisation', 'u.username', 'u.default_unit', 'uu.unit'])
    if (organisation !== undefined) q = q.where('u.organisation', '=', organisation)
    return groupUsers(await q.orderBy('u.organisation').orderBy('u.username').orderBy('uu.position').execute())
  }

  async listKeys(organisation?: string): Promise<ReadonlyArray<StoredKey>> {
    let q = this.db.selectFrom('web_api_keys').selectAll()
    if (organisation !== undefined) q = q.where('organisation', '=', organisation)
    return (await q.orderBy('organisation').orderBy('created_at').orderBy('digest').execute()).map(toKey)
  }

  async listConsumers(organisation?: string): Promise<ReadonlyArray<Consumer>> {
    let q = this.db.selectFrom('consumers').selectAll()
    if (organisation !== undefined) q = q.where('organisation', '=', organisation)
    return (await q.orderBy('organisation').orderBy('accounts_receivable_id').execute()).map(toConsumer)
  }

  async listAccessTokens(organisation?: string): Promise<ReadonlyArray<AccessToken>> {
    let q = this.db
      .selectFrom('access_tokens as t')
      .innerJoin('consumers as c', (j) =>
        j.onRef('c.organisation', '=', 't.organisation').onRef('c.accounts_receivable_id', '=', 't.accounts_receivable_id'))
      .selectAll('t')
      .select('c.contact_information_id')
    if (organisation !== undefined) q = q.where('t.organisation', '=', organisation)
    return (await q.orderBy('t.organisation').orderBy('t.id').execute()).map(toAccessToken)
  }

  async listIdentityProviders(): Promise<ReadonlyArray<IdentityProvider>> {
    return (await this.db.selectFrom('identity_providers').selectAll().orderBy('issuer').execute()).map(toProvider)
  }

  async listIdentityLinks(organisation?: string): Promise<ReadonlyArray<IdentityLink>> {
    let q = this.db.selectFrom('identity_links').selectAll()
    if (organisation !== undefined) q = q.where('organisation', '=', organisation)
    const rows = await q.orderBy('organisation').orderBy('issuer').orderBy('subject').execute()
    return rows.map((r) => ({ issuer: r.issuer, subject: r.subject, organisation: r.organisation, accountsReceivableId: r.accounts_receivable_id }))
  }

  async findConsumerByAccountsReceivable(organisation: string, accountsReceivableId: string): Promise<Consumer | undefined> {
    const r = await this.db
      .selectFrom('consumers')
      .selectAll()
      .where('organisation', '=', organisation)
      .where('accounts_receivable_id', '=', accountsReceivableId)
      .executeTakeFirst()
    return r && toConsumer(r)
  }

  async findAccessToken(id: string): Promise<AccessToken | undefined> {
    const [r] = await this.rows(this.q.tokenById, [id])
    return r && toAccessToken(r)
  }

  // -- the store itself -------------------------------------------------------------------------------------------

  /**
   * All or nothing. `work` must use the store it is given (its queries run on the transaction's connection; on
   * SQLite the outer store waits for the transaction to end). A transaction inside a transaction joins it.
   */
  async transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this)
    const inner = (db: Kysely<Database>) => new SqlStore(db, this.engine, { queries: this.q, inTransaction: true })
    if (this.engine === 'postgres') {
      return this.db.transaction().execute((trx) => work(inner(trx)))
    }
    // SQLite: BEGIN IMMEDIATE takes the write lock at once (waiting up to busy_timeout for another process), so a
    // transaction that reads and then writes cannot fail half-way on a lock held by another process. The request
    // path shares the one connection: it waits until the transaction ends rather than run inside it.
    return this.db.connection().execute((conn) => {
      const body = async () => {
        await sql`begin immediate`.execute(conn)
        try {
          const result = await work(inner(conn))
          await sql`commit`.execute(conn)
          return result
        } catch (e) {
          await sql`rollback`.execute(conn).catch(() => undefined)
          throw e
        }
      }
      return this.hot ? this.hot.exclusive(body) : body()
    })
  }

  async ping(): Promise<void> {
    const latest = latestMigration()
    const r = await this.db.selectFrom('schema_migrations').select('name').where('name', '=', latest ?? '').executeTakeFirst()
    if (latest !== undefined && !r) throw new Error(`the database is not migrated to ${latest} (run: consumer-auth migrate)`)
  }

  async close(): Promise<void> {
    if (this.inTransaction) return
    try {
      await this.hot?.close()
    } finally {
      await this.db.destroy()
    }
  }
}
