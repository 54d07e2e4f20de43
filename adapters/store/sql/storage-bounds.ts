/**
 * @module storage-bounds
 * The SQL side of what keeps the store bounded (docs/security.md, "Storage bounds"): the audit INSERT that folds a
 * failure into its bucket's row, the pruning job's small deletions, and the readiness write probe. One Kysely text
 * for SQLite and PostgreSQL (they differ only in the name of the two-argument maximum).
 */
import { sql, type Kysely } from 'kysely'
import type { AuditEvent } from '../../../core/index.js'
import { aggregationBucket } from '../audit-buckets.js'
import { arg, Prepared, PreparedInsert, type Param } from './statements.js'
import type { Database, Engine } from './schema.js'

/** The columns of one audit row, in the order of `auditInsert`'s arguments. */
const AUDIT_COLUMNS = ['type', 'at', 'session_id', 'expires_at', 'payload', 'bucket', 'occurrences', 'last_at'] as const
const BUCKET = AUDIT_COLUMNS.indexOf('bucket')
const OCCURRENCES = AUDIT_COLUMNS.indexOf('occurrences')
const LAST_AT = AUDIT_COLUMNS.indexOf('last_at')

/** The arguments of `auditInsert` for one event. */
export const auditRow = (event: AuditEvent): Param[] => [
  event.type,
  event.at,
  event.type === 'issued' || event.type === 'released' ? event.sessionId : null,
  // A session's 'released' event is kept as long as its 'issued' one: pruning it first would un-release the session.
  event.type === 'issued' || event.type === 'released' ? event.expiresAt : null,
  JSON.stringify(event),
  aggregationBucket(event) ?? null,
  1,
  event.at,
]

/**
 * The audit INSERT of n rows: a row with a bucket that exists adds its occurrences to that row and moves its last
 * time on; rows of one bucket waiting for the same write are merged first (RowMerge), as one INSERT may not update a
 * row twice.
 */
export const auditInsert = (db: Kysely<Database>, engine: Engine): PreparedInsert => {
  const width = AUDIT_COLUMNS.length
  const greatest = engine === 'postgres' ? sql.raw('greatest') : sql.raw('max')
  return new PreparedInsert(
    'ca_record',
    width,
    (rows) =>
      db
        .insertInto('audit_events')
        .values(
          Array.from({ length: rows }, (_, i) => ({
            type: arg(width * i),
            at: arg<number>(width * i + 1),
            session_id: arg(width * i + 2),
            expires_at: arg<number>(width * i + 3),
            payload: arg(width * i + 4),
            bucket: arg(width * i + 5),
            occurrences: arg<number>(width * i + 6),
            last_at: arg<number>(width * i + 7),
          })),
        )
        .onConflict((oc) =>
          oc
            .column('bucket')
            .where('bucket', 'is not', null)
            .doUpdateSet({
              occurrences: sql<number>`audit_events.occurrences + excluded.occurrences`,
              last_at: sql<number>`${greatest}(audit_events.last_at, excluded.last_at)`,
            })),
    {
      key: BUCKET,
      combine: (queued, next) => {
        queued[OCCURRENCES] = Number(queued[OCCURRENCES]) + Number(next[OCCURRENCES])
        queued[LAST_AT] = Math.max(Number(queued[LAST_AT]), Number(next[LAST_AT]))
      },
    },
  )
}

/** The readiness probe's write: one row, rewritten. */
export const writeProbe = (db: Kysely<Database>): Prepared<unknown> =>
  new Prepared<unknown>(
    'ca_write_probe',
    db
      .insertInto('write_probe')
      .values({ id: 1, at: arg<number>(0) })
      .onConflict((oc) => oc.column('id').doUpdateSet({ at: sql<number>`excluded.at` })),
  )

/** See StorageBounds.pruneAuditEvents: by the `at` index, oldest first, at most `limit` rows. */
export const pruneAuditEvents = async (db: Kysely<Database>, before: number, now: number, limit: number): Promise<number> => {
  const doomed = db
    .selectFrom('audit_events')
    .select('id')
    .where('at', '<', before)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '<=', now)]))
    .orderBy('at')
    .limit(limit)
  const r = await db.deleteFrom('audit_events').where('id', 'in', doomed).executeTakeFirst()
  return Number(r.numDeletedRows)
}

/**
 * See StorageBounds.pruneAttemptCounters; counters given back to 0 have the ended window 0 (attempt-counters.ts) and
 * go too. The window is asked again of the row deleted: a claim that started a new window in it meanwhile keeps it
 * (PostgreSQL re-checks the DELETE's own conditions, not the sub-select's, on a row changed under it).
 */
export const pruneAttemptCounters = async (db: Kysely<Database>, windowStart: number, limit: number): Promise<number> => {
  const doomed = db.selectFrom('attempt_counters').select('subject').where('window_start', '<=', windowStart).limit(limit)
  const r = await db.deleteFrom('attempt_counters').where('subject', 'in', doomed).where('window_start', '<=', windowStart).executeTakeFirst()
  return Number(r.numDeletedRows)
}
