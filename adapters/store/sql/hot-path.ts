/**
 * @module hot-path
 * How the SQL store runs the few statements of the request path: compiled once from Kysely's builder (one SQL layer)
 * and then executed straight on the driver, without Kysely's per-call driver, mutex and plugin work:
 *
 * - SQLite: better-sqlite3 statements prepared once; reads run synchronously on the one connection; WAL checkpoints
 *   run on a thread of their own (checkpointer.ts).
 * - PostgreSQL: `pg` named prepared statements (`{ name, text, values }`): each pooled connection parses and plans a
 *   statement once, later calls only bind and execute. Reads of the same kind asked at the same moment by concurrent
 *   requests share one query (BatchedRead): round trips, not answers, are shared.
 *
 * SQLite also keeps the rows of the reads marked `cached` (keys, users, access tokens, organisations)
 * for as long as they cannot have changed (ReadCache below): one `PRAGMA data_version` per turn of the event loop
 * instead of a query per read.
 *
 * Writes of the request path are group-committed: the audit events and attempt-counter updates that arrive while the
 * event loop handles one batch of I/O are written together (SQLite: one `BEGIN IMMEDIATE` transaction; PostgreSQL:
 * one multi-row INSERT for audit events), and each caller's promise resolves only once its write is committed. So
 * the semantics stay those of one statement per call, durability before the answer included; only the number of
 * transactions (locks, WAL appends, commits, round trips) falls.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { CompiledQuery, type Compilable, type Kysely } from 'kysely'
import type pg from 'pg'
import { offloadCheckpoints, type OffloadedCheckpoints } from './checkpointer.js'
import type { NativeHandle } from './connect.js'
import type { Database } from './schema.js'

export type Param = string | number | null
/** What a statement binds: a value, or (a batched read on PostgreSQL) the array of one argument of every caller. */
export type Bound = Param | ReadonlyArray<Param>

/** Stands for the i-th argument while a query is compiled once. */
export const arg = <T = string>(i: number): T => `\u0000arg${i}\u0000` as unknown as T
const argPattern = /^\u0000arg(\d+)\u0000$/

/** A query compiled once; each execution binds new argument values (constants of the query stay as compiled). */
export class Prepared<R> {
  readonly sql: string
  private readonly slots: ReadonlyArray<number | { readonly value: unknown }>
  private readonly constant: boolean

  /** @param name unique per SQL text: the name of the PostgreSQL prepared statement */
  constructor(
    readonly name: string,
    query: Compilable<R>,
  ) {
    const compiled = query.compile()
    this.sql = compiled.sql
    this.slots = compiled.parameters.map((p) => {
      const m = typeof p === 'string' ? argPattern.exec(p) : null
      return m ? Number(m[1]) : { value: p }
    })
    this.constant = this.slots.every((s, i) => s === i)
  }

  /** The parameters of one execution, in the order of the compiled SQL. */
  params(args: ReadonlyArray<Bound>): unknown[] {
    if (this.constant && args.length === this.slots.length) return args as unknown[]
    return this.slots.map((s) => (typeof s === 'number' ? args[s] : s.value))
  }

  /** Through Kysely: for a store bound to a transaction's connection. */
  async run(db: Kysely<Database>, args: ReadonlyArray<Param>): Promise<R[]> {
    return (await db.executeQuery<R>(CompiledQuery.raw(this.sql, this.params(args)) as CompiledQuery<R>)).rows
  }
}

/**
 * Rows of an upsert that name the same conflict key (non-null in column `key`) and wait for the same write are
 * written as one: `combine` folds a later row into the one queued. Needed on PostgreSQL (one INSERT cannot update a
 * row twice), and on either engine it turns a flood of one key into one statement per batch.
 */
export interface RowMerge {
  readonly key: number
  readonly combine: (queued: Param[], next: ReadonlyArray<Param>) => void
}

/**
 * An INSERT of one row, and of n rows at once (compiled once per n, on first use). `build(n)` numbers the arguments
 * row after row: row i's column j is `arg(i * width + j)`.
 */
export class PreparedInsert {
  readonly one: Prepared<never>
  private readonly many = new Map<number, Prepared<never>>()

  constructor(
    readonly name: string,
    readonly width: number,
    private readonly build: (rows: number) => Compilable<never>,
    readonly merge?: RowMerge,
  ) {
    this.one = new Prepared(name, build(1))
  }

  /** The conflict key of a row that may be merged with another (see RowMerge), or undefined. */
  mergeKey(row: ReadonlyArray<Param>): string | undefined {
    const key = this.merge === undefined ? null : row[this.merge.key]
    return key === null || key === undefined ? undefined : `${this.name}\u0000${String(key)}`
  }

  rows(n: number): Prepared<never> {
    if (n === 1) return this.one
    let p = this.many.get(n)
    if (p === undefined) {
      p = new Prepared(`${this.name}_${n}`, this.build(n))
      this.many.set(n, p)
    }
    return p
  }
}

/**
 * A read that PostgreSQL answers for every caller of one moment at once (the DataLoader pattern): `many` binds, for
 * each argument, the array of that argument over the distinct callers (`= any($1::text[])`, or pairs through
 * `unnest`), and `keyOfRow` tells which caller a row answers. Each caller still gets rows read after it asked (no
 * cache, nothing kept between batches); only the round trips are shared. SQLite runs `one` per call: its reads are
 * synchronous and cheaper than any grouping.
 */
export class BatchedRead<R> {
  /**
   * @param cached SQLite may answer from rows it read before while nothing can have changed them (see ReadCache):
   *   only for tables that the request path writes through `write` (or not at all), never through `append`
   */
  constructor(
    readonly one: Prepared<R>,
    readonly many: Prepared<R> | undefined,
    readonly keyOfRow: (row: R) => string,
    readonly cached = false,
  ) {}

  /** The caller's key, as `keyOfRow` gives it for the rows that answer it. */
  static keyOf(args: ReadonlyArray<Param>): string {
    return args.length === 1 ? String(args[0]) : args.join('\u0000')
  }
}

/**
 * A write that the callers with the same arguments waiting at one moment share (the claims of one subject, say): it
 * runs once, with their number bound after their arguments, and `split` hands each caller its answer, in the order
 * they asked. So a burst on one row is one statement, not one per caller queued on the row's lock.
 */
export class CombinedWrite<R, O> {
  constructor(
    readonly statement: Prepared<R>,
    readonly split: (rows: ReadonlyArray<R>, callers: number) => O[],
  ) {}

  /** Callers with equal arguments are combined. */
  static keyOf(q: CombinedWrite<unknown, unknown>, args: ReadonlyArray<Param>): string {
    return `${q.statement.name}\u0000${args.join('\u0000')}`
  }
}

interface Caller<O> {
  readonly resolve: (answer: O) => void
  readonly reject: (e: unknown) => void
}

/** Hands each caller its answer (or the error) once the one statement has run. */
const settleCallers = <O>(callers: ReadonlyArray<Caller<O>>) => ({
  answer: (answers: ReadonlyArray<O>) => callers.forEach((c, i) => c.resolve(answers[i] as O)),
  fail: (e: unknown) => callers.forEach((c) => c.reject(e)),
})

export interface HotPath {
  /** One statement on its own: a read, or a write that must not wait for a batch. */
  all<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]>
  /** A read shared with the callers of the same read at this moment where that saves round trips (PostgreSQL). */
  load<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]>
  /**
   * A write whose answer is needed (an upsert RETURNING): in the group commit where the engine allows it.
   * `changesCachedRows` false: it writes no table whose reads are cached, so SQLite keeps its read cache.
   */
  write<R>(q: Prepared<R>, args: ReadonlyArray<Param>, changesCachedRows?: boolean): Promise<R[]>
  /** A write combined with the callers of equal arguments waiting with it (see CombinedWrite), group-committed on SQLite. */
  combine<R, O>(q: CombinedWrite<R, O>, args: ReadonlyArray<Param>): Promise<O>
  /** Appends one row; resolves once it is committed, together with the other writes of this moment. */
  append(q: PreparedInsert, row: ReadonlyArray<Param>): Promise<void>
  /** Runs `work` while it holds the connection for a transaction of its own (SQLite: the hot path waits meanwhile). */
  exclusive<T>(work: () => Promise<T>): Promise<T>
  /** Something other than the hot path ran a statement on this connection (it may have written): forget read rows. */
  changed(): void
  /** Writes what is queued; afterwards nothing more is accepted. */
  close(): Promise<void>
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Statements = ReadonlyArray<Prepared<unknown> | PreparedInsert | BatchedRead<any> | CombinedWrite<any, any>>

export const hotPath = (native: NativeHandle, queries: Statements): HotPath =>
  native.engine === 'sqlite' ? new SqliteHotPath(native.db, queries) : new PostgresHotPath(native.pool)

// ------------------------------------------------------------------------------------------------ SQLite

interface QueuedWrite {
  readonly run: () => unknown
  readonly resolve: (value: never) => void
  readonly reject: (e: unknown) => void
}

const isBusy = (e: unknown): boolean => typeof (e as { code?: unknown })?.code === 'string' && (e as { code: string }).code.startsWith('SQLITE_BUSY')

/** Entries a ReadCache holds at most; past that it starts again empty (random keys sent by a flood stay bounded). */
const MAX_CACHED_READS = 10_000

/**
 * The rows of cached reads, kept while they cannot have changed. What can change them:
 * - another connection's commit (another process: the CLI revoking a key, a second instance; the checkpointer's
 *   thread does not commit): SQLite's `PRAGMA data_version` tells. It is asked by the first cached read of each turn
 *   of the event loop, so a request read from its socket after such a commit is answered with it; requests handled in
 *   the same turn as the check were already arriving when the other process committed, and may be answered as
 *   before it (docs/decisions.md). Asked before every read, it cost as much as the reads it replaced: it opens a WAL
 *   read transaction like any statement;
 * - this connection's own writes: the hot path's `write`s forget everything when their batch commits (except those
 *   that say they change no cached table: the attempt counters, whose reads are not cached), and every statement that runs through Kysely on this connection (provisioning, transactions) calls
 *   `changed()` after it ran (a Kysely plugin in sql-store.ts). Audit `append`s change no cached table and keep them.
 */
class ReadCache {
  private readonly rows = new Map<string, unknown[]>()
  private version: unknown = undefined
  /** data_version was asked during this turn of the event loop. */
  private checked = false
  private readonly recheck = (): void => {
    this.checked = false
  }

  constructor(private readonly dataVersion: BetterSqlite3.Statement) {}

  get<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>, read: () => R[]): R[] {
    if (!this.checked) {
      const version = this.dataVersion.get()
      if (version !== this.version) {
        this.rows.clear()
        this.version = version
      }
      this.checked = true
      setImmediate(this.recheck)
    }
    const key = `${q.one.name}\u0000${BatchedRead.keyOf(args)}`
    let rows = this.rows.get(key) as R[] | undefined
    if (rows === undefined) {
      rows = read()
      if (this.rows.size >= MAX_CACHED_READS) this.rows.clear()
      this.rows.set(key, rows)
    }
    return rows
  }

  clear(): void {
    this.rows.clear()
  }
}

class SqliteHotPath implements HotPath {
  private readonly statements = new Map<string, BetterSqlite3.Statement>()
  private readonly cache: ReadCache
  /** The queued batch has a `write` (not only appends): the cache is cleared once it is committed. */
  private queueWrites = false
  private readonly begin: BetterSqlite3.Statement
  private readonly commit: BetterSqlite3.Statement
  private readonly rollback: BetterSqlite3.Statement
  private queue: QueuedWrite[] = []
  /** Appended rows of the queued batch that later rows of the same key are merged into (see RowMerge). */
  private mergeable = new Map<string, { readonly row: Param[]; readonly committed: Promise<void> }>()
  /** The callers of each combined write of the queued batch (see CombinedWrite). */
  private combined = new Map<string, Array<Caller<never>>>()
  private scheduled = false
  /** Set while a transaction of the Kysely side holds the connection: nothing here may run inside it. */
  private held: Promise<void> | undefined
  private closed = false
  /** The WAL checkpoints, run on the checkpointer's thread (see checkpointer.ts). */
  private readonly checkpoints: OffloadedCheckpoints

  constructor(
    private readonly db: BetterSqlite3.Database,
    queries: Statements,
  ) {
    this.checkpoints = offloadCheckpoints(db)
    this.cache = new ReadCache(db.prepare('pragma data_version').pluck())
    this.begin = db.prepare('begin immediate')
    this.commit = db.prepare('commit')
    this.rollback = db.prepare('rollback')
    // Prepared now when the schema is there; a store opened on a database not yet migrated prepares on first use.
    try {
      for (const q of queries) this.statement(q instanceof PreparedInsert || q instanceof BatchedRead ? q.one : q instanceof CombinedWrite ? q.statement : q)
    } catch {
      // not migrated yet
    }
  }

  private statement(q: Prepared<unknown>): BetterSqlite3.Statement {
    let s = this.statements.get(q.sql)
    if (s === undefined) {
      s = this.db.prepare(q.sql)
      this.statements.set(q.sql, s)
    }
    return s
  }

  private exec<R>(q: Prepared<R>, args: ReadonlyArray<Param>): R[] {
    const s = this.statement(q as Prepared<unknown>)
    const params = q.params(args)
    if (s.reader) return s.all(params) as R[]
    s.run(params)
    return []
  }

  /** Runs a synchronous read now, or once a transaction that holds the connection has ended. */
  private read<R>(run: () => R[]): Promise<R[]> {
    if (this.held) return this.held.then(() => this.read(run))
    try {
      return Promise.resolve(run())
    } catch (e) {
      return Promise.reject(e)
    }
  }

  all<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.read(() => this.exec(q, args))
  }

  load<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    if (!q.cached) return this.all(q.one, args)
    return this.read(() => this.cache.get(q, args, () => this.exec(q.one, args)))
  }

  write<R>(q: Prepared<R>, args: ReadonlyArray<Param>, changesCachedRows = true): Promise<R[]> {
    if (changesCachedRows) this.queueWrites = true
    return this.enqueue(() => this.exec(q, args))
  }

  changed(): void {
    this.cache.clear()
  }

  combine<R, O>(q: CombinedWrite<R, O>, args: ReadonlyArray<Param>): Promise<O> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    const key = CombinedWrite.keyOf(q as CombinedWrite<unknown, unknown>, args)
    let callers = this.combined.get(key) as Array<Caller<O>> | undefined
    if (callers === undefined) {
      const all: Array<Caller<O>> = []
      callers = all
      this.combined.set(key, all as Array<Caller<never>>)
      const settle = settleCallers(all)
      // Run when the batch is: by then every caller of this batch has joined.
      this.enqueue(() => q.split(this.exec(q.statement, [...args, all.length]), all.length)).then(settle.answer, settle.fail)
    }
    const joined = callers
    return new Promise<O>((resolve, reject) => joined.push({ resolve, reject }))
  }

  append(q: PreparedInsert, row: ReadonlyArray<Param>): Promise<void> {
    const key = q.mergeKey(row)
    if (key === undefined) {
      return this.enqueue(() => {
        this.exec(q.one, row)
      })
    }
    const queued = this.mergeable.get(key)
    if (queued) {
      q.merge!.combine(queued.row, row)
      return queued.committed
    }
    const merged = [...row]
    const committed = this.enqueue(() => {
      this.exec(q.one, merged)
    })
    this.mergeable.set(key, { row: merged, committed })
    return committed
  }

  private enqueue<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: never) => void, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // After the I/O of this turn of the event loop: the writes of every request it moved on go together.
        setImmediate(this.flush)
      }
    })
  }

  private readonly flush = (): void => {
    if (this.held) {
      void this.held.then(this.flush)
      return
    }
    this.scheduled = false
    const batch = this.queue
    const writes = this.queueWrites
    this.queue = []
    this.mergeable = new Map()
    this.combined = new Map()
    this.queueWrites = false
    if (batch.length === 0) return
    // The batch runs synchronously from here to its last resolve, so no read comes between this and the commit.
    if (writes) this.cache.clear()
    const results: unknown[] = new Array(batch.length)
    try {
      this.begin.run()
      try {
        for (let i = 0; i < batch.length; i++) results[i] = batch[i]!.run()
        this.commit.run()
      } catch (e) {
        if (this.db.inTransaction) this.rollback.run()
        throw e
      }
    } catch (e) {
      // Waiting for another process's lock already took the busy timeout: do not wait again once per write.
      if (batch.length === 1 || isBusy(e)) {
        for (const w of batch) w.reject(e)
        return
      }
      // One write that fails (a constraint) must not fail the others: each on its own then.
      for (const w of batch) {
        try {
          w.resolve(w.run() as never)
        } catch (err) {
          w.reject(err)
        }
      }
      return
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i] as never)
    // Between two batches, nothing commits: a truncation of the WAL can finish here (checkpointer.ts).
    this.checkpoints.truncateIfLarge()
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.held) await this.held
    let release!: () => void
    this.held = new Promise<void>((resolve) => (release = resolve))
    try {
      return await work()
    } finally {
      this.cache.clear()
      this.held = undefined
      release()
    }
  }

  async close(): Promise<void> {
    while (this.held) await this.held
    this.flush()
    this.closed = true
    await this.checkpoints.release()
  }
}

// ------------------------------------------------------------------------------------------------ PostgreSQL

/** Rows per multi-row INSERT: far below PostgreSQL's 65535 parameters, and a batch this size is already rare. */
const MAX_ROWS = 64

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): the rows are at fault, not the link. */
const isDataError = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && /^2[23]/.test(code)
}

interface QueuedRow {
  readonly row: ReadonlyArray<Param>
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
  /** Set on a row that later rows of the same key are merged into (see RowMerge). */
  readonly key?: string
  readonly committed?: Promise<void>
}

interface AppendQueue {
  queue: QueuedRow[]
  inFlight: boolean
  /** The queued rows, not yet sent, that a row of the same key is merged into. */
  readonly mergeable: Map<string, QueuedRow>
}

interface Waiting<R> {
  readonly args: ReadonlyArray<Param>
  readonly callers: Array<{ readonly resolve: (rows: R[]) => void; readonly reject: (e: unknown) => void }>
}

/** The callers of one combined write (see CombinedWrite): at most one statement in flight, the others wait for the next. */
interface CombineQueue {
  readonly args: ReadonlyArray<Param>
  waiting: Array<Caller<unknown>>
}

class PostgresHotPath implements HotPath {
  private readonly loads = new Map<BatchedRead<unknown>, Map<string, Waiting<unknown>>>()
  private readonly appends = new Map<PreparedInsert, AppendQueue>()
  /** By CombinedWrite.keyOf; present while a statement of that key is in flight or callers wait. */
  private readonly combining = new Map<string, CombineQueue>()
  private readonly inFlight = new Set<Promise<void>>()
  private closed = false

  constructor(private readonly pool: pg.Pool) {}

  async all<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.query(q, q.params(args))
  }

  private async query<R>(q: Prepared<R>, values: unknown[]): Promise<R[]> {
    const client = await this.pool.connect()
    try {
      return (await client.query({ name: q.name, text: q.sql, values })).rows as R[]
    } finally {
      client.release()
    }
  }

  load<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    if (q.many === undefined) return this.all(q.one, args)
    let waiting = this.loads.get(q as BatchedRead<unknown>) as Map<string, Waiting<R>> | undefined
    if (waiting === undefined) {
      waiting = new Map()
      this.loads.set(q as BatchedRead<unknown>, waiting as Map<string, Waiting<unknown>>)
      // After the I/O of this turn of the event loop: every request it moved on to this read asks in one query.
      setImmediate(() => this.dispatch(q))
    }
    const key = BatchedRead.keyOf(args)
    let w = waiting.get(key)
    if (w === undefined) {
      w = { args, callers: [] }
      waiting.set(key, w)
    }
    const callers = w.callers
    return new Promise<R[]>((resolve, reject) => callers.push({ resolve, reject }))
  }

  private dispatch<R>(q: BatchedRead<R>): void {
    const waiting = this.loads.get(q as BatchedRead<unknown>) as Map<string, Waiting<R>> | undefined
    this.loads.delete(q as BatchedRead<unknown>)
    if (waiting === undefined) return
    const all = [...waiting.values()]
    const settle = (w: Waiting<R>, rows: R[]) => {
      for (const c of w.callers) c.resolve(rows)
    }
    const fail = (e: unknown) => {
      for (const w of all) for (const c of w.callers) c.reject(e)
    }
    if (all.length === 1) {
      const w = all[0]!
      this.query(q.one, q.one.params(w.args)).then((rows) => settle(w, rows), fail)
      return
    }
    const many = q.many!
    // One array per argument, over the distinct callers.
    const columns = all[0]!.args.map((_, i) => all.map((w) => w.args[i] ?? null))
    this.query(many, many.params(columns)).then((rows) => {
      const byKey = new Map<string, R[]>()
      for (const r of rows) {
        const k = q.keyOfRow(r)
        const list = byKey.get(k)
        if (list === undefined) byKey.set(k, [r])
        else list.push(r)
      }
      for (const [key, w] of waiting) settle(w, byKey.get(key) ?? [])
    }, fail)
  }

  /** An upsert of one row cannot share its statement with another of the same row: on its own here. */
  write<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.all(q, args)
  }

  /**
   * One statement of a key in flight; the callers that arrive meanwhile go together in the next one, so the callers
   * of one row never queue on its lock within an instance (group commit, as for the appends).
   */
  combine<R, O>(q: CombinedWrite<R, O>, args: ReadonlyArray<Param>): Promise<O> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    const key = CombinedWrite.keyOf(q as CombinedWrite<unknown, unknown>, args)
    let s = this.combining.get(key)
    if (s === undefined) {
      const queue: CombineQueue = { args, waiting: [] }
      s = queue
      this.combining.set(key, queue)
      // After the I/O of this turn of the event loop: every request it moved on to this row goes in one statement.
      setImmediate(() => this.sendCombined(q, key, queue))
    }
    const waiting = s.waiting as Array<Caller<O>>
    return new Promise<O>((resolve, reject) => waiting.push({ resolve, reject }))
  }

  private sendCombined<R, O>(q: CombinedWrite<R, O>, key: string, s: CombineQueue): void {
    const callers = s.waiting as Array<Caller<O>>
    s.waiting = []
    if (callers.length === 0) {
      this.combining.delete(key)
      return
    }
    const settle = settleCallers(callers)
    const done = this.query(q.statement, q.statement.params([...s.args, callers.length])).then(
      (rows) => settle.answer(q.split(rows, callers.length)),
      (e: unknown) => {
        settle.fail(e)
        // Those waiting behind a failed statement fail with it (as the appends do): not a second timeout to the 503.
        settleCallers(s.waiting.splice(0)).fail(e)
      },
    )
    this.inFlight.add(done)
    void done.then(() => {
      this.inFlight.delete(done)
      this.sendCombined(q, key, s)
    })
  }

  append(q: PreparedInsert, row: ReadonlyArray<Param>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    let state = this.appends.get(q)
    if (state === undefined) {
      state = { queue: [], inFlight: false, mergeable: new Map() }
      this.appends.set(q, state)
    }
    const s = state
    const key = q.mergeKey(row)
    const queued = key === undefined ? undefined : s.mergeable.get(key)
    if (queued?.committed) {
      q.merge!.combine(queued.row as Param[], row)
      return queued.committed
    }
    let entry!: QueuedRow
    const committed = new Promise<void>((resolve, reject) => {
      entry = key === undefined ? { row, resolve, reject } : { row: [...row], resolve, reject, key }
      s.queue.push(entry)
      // One INSERT in flight per table; what arrives meanwhile goes in the next one (group commit).
      if (!s.inFlight) {
        s.inFlight = true
        setImmediate(() => this.send(q, s))
      }
    })
    if (key !== undefined) s.mergeable.set(key, { ...entry, committed })
    return committed
  }

  private send(q: PreparedInsert, s: AppendQueue): void {
    const batch = s.queue.splice(0, MAX_ROWS)
    for (const r of batch) if (r.key !== undefined) s.mergeable.delete(r.key)
    if (batch.length === 0) {
      s.inFlight = false
      return
    }
    const args: Param[] = []
    for (const r of batch) for (const v of r.row) args.push(v)
    const statement = q.rows(batch.length)
    const done = this.query(statement, statement.params(args)).then(
      () => {
        for (const r of batch) r.resolve()
      },
      async (e: unknown) => {
        if (batch.length > 1 && isDataError(e)) {
          // One row the database refuses (a constraint) must not fail the others: each on its own then, in order.
          for (const r of batch) {
            await this.query(q.one, q.one.params(r.row)).then(() => r.resolve(), r.reject)
          }
          return
        }
        for (const r of batch) r.reject(e)
        // The rows queued behind a failed write fail with it: waiting for a batch of their own as well would double
        // the time to a 503 when the database is down or cut off (docs/behaviour.md, the storage rules), up to two query timeouts.
        for (const r of s.queue.splice(0)) r.reject(e)
        s.mergeable.clear()
      },
    )
    this.inFlight.add(done)
    void done.then(() => {
      this.inFlight.delete(done)
      this.send(q, s)
    })
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return work()
  }

  /** Nothing is kept between batches on PostgreSQL. */
  changed(): void {}

  async close(): Promise<void> {
    this.closed = true
    // Wait for every queued row to be sent and answered.
    while (this.inFlight.size > 0 || this.combining.size > 0 || [...this.appends.values()].some((s) => s.inFlight)) {
      await Promise.all(this.inFlight)
      await new Promise((r) => setImmediate(r))
    }
  }
}
