/**
 * @module queries
 * The statements of the request path, declared once for both engines and compiled once per store (statements.ts
 * says what each kind of statement lets its callers share; the executors run them). A read is written once with its
 * key columns: its single form (`key = $1`) serves SQLite and lone callers, and on PostgreSQL its batched form
 * (`key = any($1::text[])`, pairs through `unnest`) answers every caller of one moment in one query.
 */
import { sql, type Compilable, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely'
import { claimAttempts, giveBackAttempts } from './attempt-counters.js'
import type { AccessTokenRow, KeyWithUserRow, UserRow } from './rows.js'
import type { AttemptCountersTable, AuditEventsTable, ConsumersTable, Database, Engine, OrganisationsTable, WebApiKeysTable } from './schema.js'
import { arg, BatchedRead, Prepared } from './statements.js'
import { auditInsert, writeProbe } from './storage-bounds.js'

/** The columns a read is looked up by: one, or a pair. */
type KeyColumns = readonly [string] | readonly [string, string]

/** The key columns equal the caller's arguments (single), or one of the callers' (batched: one text array per column). */
const keyIs = ([a, b]: KeyColumns, batched: boolean): Expression<SqlBool> => {
  if (b === undefined) return batched ? sql<SqlBool>`${sql.ref(a)} = any(${arg(0)}::text[])` : sql<SqlBool>`${sql.ref(a)} = ${arg(0)}`
  return batched
    ? sql<SqlBool>`(${sql.ref(a)}, ${sql.ref(b)}) in (select * from unnest(${arg(0)}::text[], ${arg(1)}::text[]))`
    : sql<SqlBool>`${sql.ref(a)} = ${arg(0)} and ${sql.ref(b)} = ${arg(1)}`
}

/** Row keys of batched reads: the arguments of the caller a row answers, joined as BatchedRead.keyOf joins them. */
const pair = (a: string | null, b: string | null) => `${a}\u0000${b}`

/** Access tokens (t) with their consumer's contact information id: the rows of AccessTokenRow. */
export const accessTokensWithContact = (db: Kysely<Database>) =>
  db
    .selectFrom('access_tokens as t')
    .innerJoin('consumers as c', (j) => j.onRef('c.organisation', '=', 't.organisation').onRef('c.accounts_receivable_id', '=', 't.accounts_receivable_id'))
    .selectAll('t')
    .select('c.contact_information_id')

/** Users (u) with one of their units (uu) per row: the rows of UserRow. */
export const usersWithUnits = (db: Kysely<Database>) =>
  db
    .selectFrom('users as u')
    .leftJoin('user_units as uu', (j) => j.onRef('uu.organisation', '=', 'u.organisation').onRef('uu.username', '=', 'u.username'))
    .select(['u.organisation', 'u.username', 'u.default_unit', 'uu.unit'])

export const compileQueries = (db: Kysely<Database>, engine: Engine) => {
  /**
   * A read by its key columns; `build` adds the key's condition to its query. Rows of one key keep their order in
   * the batched form (the batch is split by `keyOfRow` in the order of the rows), so one ORDER BY serves both.
   */
  const read = <R>(name: string, key: KeyColumns, build: (keyIs: Expression<SqlBool>) => Compilable<R>, keyOfRow: (r: R) => string) =>
    new BatchedRead<R>(
      new Prepared(name, build(keyIs(key, false))),
      engine === 'postgres' ? new Prepared(`${name}_batched`, build(keyIs(key, true))) : undefined,
      keyOfRow,
    )
  const tokens = () => accessTokensWithContact(db)
  return {
    organisation: read<Selectable<OrganisationsTable>>('ca_organisation', ['id'], (k) => db.selectFrom('organisations').selectAll().where(k), (r) => r.id),
    user: read<UserRow>(
      'ca_user',
      ['u.organisation', 'u.username'],
      (k) => usersWithUnits(db).where(k).orderBy('uu.position'),
      (r) => pair(r.organisation, r.username),
    ),
    key: read<Selectable<WebApiKeysTable>>('ca_key', ['digest'], (k) => db.selectFrom('web_api_keys').selectAll().where(k), (r) => r.digest),
    keyWithUser: read<KeyWithUserRow>(
      'ca_key_with_user',
      ['k.digest'],
      (k) =>
        db
          .selectFrom('web_api_keys as k')
          .leftJoin('users as u', (j) => j.onRef('u.organisation', '=', 'k.organisation').onRef('u.username', '=', 'k.username'))
          .leftJoin('user_units as uu', (j) => j.onRef('uu.organisation', '=', 'u.organisation').onRef('uu.username', '=', 'u.username'))
          .selectAll('k')
          .select(['u.username as user_username', 'u.default_unit', 'uu.unit'])
          .where(k)
          .orderBy('uu.position'),
      (r) => r.digest,
    ),
    tokensByCode: read<AccessTokenRow>(
      'ca_tokens_by_code',
      ['t.authentication_code_digest'],
      (k) => tokens().where(k).orderBy('t.id'),
      (r) => String(r.authentication_code_digest),
    ),
    tokensByCodeIn: read<AccessTokenRow>(
      'ca_tokens_by_code_in',
      ['t.authentication_code_digest', 't.organisation'],
      (k) => tokens().where(k).orderBy('t.id'),
      (r) => pair(r.authentication_code_digest, r.organisation),
    ),
    tokenById: read<AccessTokenRow>('ca_token_by_id', ['t.id'], (k) => tokens().where(k), (r) => r.id),
    tokenByIdentifier: new Prepared<AccessTokenRow>(
      'ca_token_by_identifier',
      tokens().where('t.organisation', '=', arg(0)).where('t.identifier', '=', arg(1)).limit(1),
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
    // A counter given back to 0 counts nothing (its row waits for the pruning job: attempt-counters.ts).
    attempts: read<Selectable<AttemptCountersTable>>(
      'ca_attempts',
      ['subject'],
      (k) => db.selectFrom('attempt_counters').selectAll().where(k).where('failures', '>', 0),
      (r) => r.subject,
    ),
    claimAttempts: claimAttempts(db, engine),
    giveBackAttempts: giveBackAttempts(db, engine),
    clearAttempts: new Prepared<never>('ca_clear_attempts', db.deleteFrom('attempt_counters').where('subject', '=', arg(0))),
    record: auditInsert(db, engine),
    writeProbe: writeProbe(db),
    // A session's 'issued' event comes first; a second row, if any, is its (first) 'released' event. A session has
    // at most a few such rows (one 'issued', a 'released' per concurrent release), so the batched form needs no limit.
    sessionEvents: read<Pick<Selectable<AuditEventsTable>, 'session_id' | 'type' | 'payload'>>(
      'ca_session_events',
      ['session_id'],
      (k) => db.selectFrom('audit_events').select(['session_id', 'type', 'payload']).where(k).where('type', 'in', ['issued', 'released']).orderBy('id'),
      (r) => String(r.session_id),
    ),
  }
}

export type Queries = ReturnType<typeof compileQueries>

/**
 * The reads SQLite answers from its read cache (sqlite-read-cache.ts): tables the request path never writes. Not
 * the attempt counters, which it does write.
 */
export const cachedReads = (q: Queries): ReadonlyArray<BatchedRead<unknown>> =>
  [q.organisation, q.user, q.key, q.keyWithUser, q.tokensByCode, q.tokensByCodeIn, q.tokenById] as ReadonlyArray<BatchedRead<unknown>>

/**
 * The reads SQLite keeps in its read cache only once they find rows: a session's events, which the request path
 * does append to. A session's 'issued' row comes before anyone can present its token, so a found record changes
 * only by its release (the store forgets the cache when it records one: sql-store.ts) or by pruning (through Kysely,
 * which forgets too); a not-found answer is not kept, as the 'issued' row may be appended after it.
 */
export const readsCachedOnceFound = (q: Queries): ReadonlyArray<BatchedRead<unknown>> => [q.sessionEvents] as ReadonlyArray<BatchedRead<unknown>>
