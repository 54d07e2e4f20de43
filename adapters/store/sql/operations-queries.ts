/**
 * @module operations-queries
 * The SQL side of the operator's questions (adapters/store/store.ts `Operations`): a consumer's sessions, the attempt
 * counters, and pages of the audit log, through Kysely (they are not on the request path). The filters on what only
 * the JSON payload holds (organisation, consumer, key prefix) read it with the engine's JSON function; they mean
 * what adapters/store/operations.ts says, and the store contract holds the SQL and the memory store to the same answers.
 */
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely'
import type { AuditEvent } from '../../../core/index.js'
import { summaryOf, type Issued } from '../operations.js'
import type { AttemptCount, AuditQuery, SessionSummary, StoredAuditEvent } from '../store.js'
import type { Database, Engine } from './schema.js'

/** A text field of the payload (NULL when absent). The name is a constant of this module, inlined as a literal. */
const field = (engine: Engine, name: string) =>
  engine === 'postgres' ? sql<string | null>`(payload::jsonb ->> ${sql.lit(name)})` : sql<string | null>`json_extract(payload, ${sql.lit(`$.${name}`)})`

/** The session ids among `ids` that have a 'released' event. */
const releasedAmong = async (db: Kysely<Database>, ids: ReadonlyArray<string>): Promise<Set<string>> => {
  if (ids.length === 0) return new Set()
  const rows = await db.selectFrom('audit_events').select('session_id').where('type', '=', 'released').where('session_id', 'in', ids).execute()
  return new Set(rows.map((r) => String(r.session_id)))
}

export const listSessions = async (
  db: Kysely<Database>,
  engine: Engine,
  organisation: string,
  accountsReceivableId: string,
  nowSeconds: number,
): Promise<ReadonlyArray<SessionSummary>> => {
  // Sessions last two hours: only 'issued' events of the last lifetime can still be unexpired, which `at` bounds
  // before the payload is read.
  const rows = await db
    .selectFrom('audit_events')
    .select('payload')
    .where('type', '=', 'issued')
    .where('at', '>', nowSeconds - 2 * 7200)
    .where(field(engine, 'organisation'), '=', organisation)
    .where(field(engine, 'accountsReceivableId'), '=', accountsReceivableId)
    .orderBy('id', 'desc')
    .execute()
  const issued = rows.map((r) => JSON.parse(r.payload) as Issued).filter((e) => e.expiresAt > nowSeconds)
  const released = await releasedAmong(db, issued.map((e) => e.sessionId))
  return issued.map((e) => summaryOf(e, released.has(e.sessionId)))
}

export const listAttemptCounts = async (db: Kysely<Database>): Promise<ReadonlyArray<AttemptCount>> =>
  (await db.selectFrom('attempt_counters').selectAll().where('failures', '>', 0).orderBy('subject').execute()).map((r) => ({
    subject: r.subject,
    failures: r.failures,
    windowStart: r.window_start,
  }))

export const queryAuditEvents = async (db: Kysely<Database>, engine: Engine, q: AuditQuery): Promise<ReadonlyArray<StoredAuditEvent>> => {
  const rows = await db
    .selectFrom('audit_events')
    .select(['id', 'payload', 'occurrences', 'at', 'last_at'])
    .where((eb) => {
      const all: Expression<SqlBool>[] = []
      if (q.beforeId !== undefined) all.push(eb('id', '<', q.beforeId))
      if (q.since !== undefined) all.push(eb('at', '>=', q.since))
      if (q.until !== undefined) all.push(eb('at', '<', q.until))
      if (q.types !== undefined) all.push(q.types.length === 0 ? sql<SqlBool>`1 = 0` : eb('type', 'in', [...q.types]))
      if (q.organisation !== undefined) all.push(eb(field(engine, 'organisation'), '=', q.organisation))
      if (q.accountsReceivableId !== undefined) all.push(eb(field(engine, 'accountsReceivableId'), '=', q.accountsReceivableId))
      if (q.keyPrefix !== undefined) all.push(eb(field(engine, 'keyPrefix'), '=', q.keyPrefix))
      return eb.and(all)
    })
    .orderBy('id', 'desc')
    .limit(q.limit)
    .execute()
  return rows.map((r) => ({ id: Number(r.id), event: JSON.parse(r.payload) as AuditEvent, count: Number(r.occurrences), lastAt: Number(r.last_at ?? r.at) }))
}

/** Every audit event after `sinceId`, oldest first. */
export const listAuditEvents = async (db: Kysely<Database>, sinceId: number): Promise<ReadonlyArray<StoredAuditEvent>> => {
  const rows = await db
    .selectFrom('audit_events')
    .select(['id', 'payload', 'occurrences', 'at', 'last_at'])
    .where('id', '>', sinceId)
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ id: r.id, event: JSON.parse(r.payload) as AuditEvent, count: r.occurrences, lastAt: r.last_at ?? r.at }))
}
