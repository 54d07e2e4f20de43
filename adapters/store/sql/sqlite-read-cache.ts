/**
 * @module sqlite-read-cache
 * The SQLite executor with a read cache in front (a decorator over sqlite-executor.ts): the rows of the reads named
 * at construction (keys, users, access tokens, organisations) are kept for as long as they cannot have changed, so
 * most requests cost one `PRAGMA data_version` per turn of the event loop instead of a query per read.
 *
 * What can change those rows:
 * - another connection's commit (another process: the CLI revoking a key, a second instance; the checkpointer's
 *   thread does not commit): SQLite's `PRAGMA data_version` tells. It is asked by the first cached read of each turn
 *   of the event loop, so a request read from its socket after such a commit is answered with it; requests handled in
 *   the same turn as the check were already arriving when the other process committed, and may be answered as
 *   before it (docs/decisions.md). Asked before every read, it cost as much as the reads it replaced: it opens a WAL
 *   read transaction like any statement;
 * - this connection's statements through Kysely (provisioning, transactions): the store calls `changed()` after
 *   each (a Kysely plugin in sql-store.ts), and a transaction's end forgets everything before the executor runs again.
 *
 * The request path's own writes (audit rows, attempt counters, the readiness probe) keep the cache: they touch no
 * cached table except the audit log, whose reads (a session's events) are kept only once found (queries.ts,
 * `readsCachedOnceFound`; a release forgets the cache); the attempt counters' reads are not cached.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { Executor } from './executor.js'
import type { SqliteExecutor } from './sqlite-executor.js'
import { BatchedRead, type CombinedWrite, type Param, type Prepared, type PreparedInsert } from './statements.js'

/** Entries the cache holds at most; past that it starts again empty (random keys sent by a flood stay bounded). */
const MAX_CACHED_READS = 10_000

export class ReadCachingExecutor implements Executor {
  /** Per read, its rows by the caller's key (BatchedRead.keyOf: the argument itself for a read of one argument). */
  private readonly rows = new Map<BatchedRead<unknown>, Map<string, unknown[]>>()
  private size = 0
  private readonly dataVersion: BetterSqlite3.Statement
  private version: unknown = undefined
  /** data_version was asked during this turn of the event loop. */
  private checked = false
  private readonly recheck = (): void => {
    this.checked = false
  }
  private readonly cached: ReadonlySet<BatchedRead<unknown>>
  private readonly onceFound: ReadonlySet<BatchedRead<unknown>>

  constructor(
    private readonly inner: SqliteExecutor,
    cached: ReadonlyArray<BatchedRead<unknown>>,
    /** Reads whose answer is kept only when it has rows (an empty one may be followed by this connection's append). */
    cachedOnceFound: ReadonlyArray<BatchedRead<unknown>> = [],
  ) {
    this.dataVersion = inner.db.prepare('pragma data_version').pluck()
    this.onceFound = new Set(cachedOnceFound)
    this.cached = new Set([...cached, ...cachedOnceFound])
  }

  load<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    if (!this.cached.has(q as BatchedRead<unknown>)) return this.inner.load(q, args)
    return this.inner.whenFree(() => this.get(q, args))
  }

  private get<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): R[] {
    if (!this.checked) {
      const version = this.dataVersion.get()
      if (version !== this.version) {
        this.forget()
        this.version = version
      }
      this.checked = true
      setImmediate(this.recheck)
    }
    const read = q as BatchedRead<unknown>
    const key = BatchedRead.keyOf(args)
    let ofRead = this.rows.get(read)
    let rows = ofRead?.get(key) as R[] | undefined
    if (rows === undefined) {
      rows = this.inner.runNow(q.one, args)
      if (rows.length === 0 && this.onceFound.has(read)) return rows
      if (this.size >= MAX_CACHED_READS) this.forget()
      ofRead = this.rows.get(read)
      if (ofRead === undefined) this.rows.set(read, (ofRead = new Map()))
      ofRead.set(key, rows)
      this.size++
    }
    return rows
  }

  private forget(): void {
    this.rows.clear()
    this.size = 0
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    // Forgotten before the executor lets anything run again (still inside the hold).
    return this.inner.exclusive(() => work().finally(() => this.forget()))
  }

  changed(): void {
    this.forget()
  }

  all<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.inner.all(q, args)
  }

  write<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.inner.write(q, args)
  }

  combine<R, O>(q: CombinedWrite<R, O>, args: ReadonlyArray<Param>): Promise<O> {
    return this.inner.combine(q, args)
  }

  append(q: PreparedInsert, row: ReadonlyArray<Param>): Promise<void> {
    return this.inner.append(q, row)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
