/**
 * @module sqlite-executor
 * The SQLite executor (executor.ts): better-sqlite3 statements prepared once and run straight on the driver, without
 * Kysely's per-call driver, mutex and plugin work. Reads run synchronously on the one connection; WAL checkpoints run
 * on a thread of their own (checkpointer.ts).
 *
 * Writes are group-committed: the audit rows, attempt-counter writes and probes that arrive while the event loop
 * handles one batch of I/O are written in one `BEGIN IMMEDIATE` transaction, and each caller's promise resolves only
 * once it is committed. Rows of one audit bucket are merged (RowMerge) and the callers of one combined write share
 * one execution (CombinedWrite) within the batch.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { offloadCheckpoints, type OffloadedCheckpoints } from './checkpointer.js'
import { settleCallers, type Caller, type Executor } from './executor.js'
import { CombinedWrite, singleForm, type BatchedRead, type Param, type Prepared, type PreparedInsert, type Statement } from './statements.js'

interface QueuedWrite {
  readonly run: () => unknown
  readonly resolve: (value: never) => void
  readonly reject: (e: unknown) => void
}

const isBusy = (e: unknown): boolean => typeof (e as { code?: unknown })?.code === 'string' && (e as { code: string }).code.startsWith('SQLITE_BUSY')

export class SqliteExecutor implements Executor {
  readonly db: BetterSqlite3.Database
  private readonly prepare: (text: string) => BetterSqlite3.Statement
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

  /** @param native the connection and its statement cache (connect.ts), shared with Kysely's side */
  constructor(native: { readonly db: BetterSqlite3.Database; readonly prepare: (text: string) => BetterSqlite3.Statement }, queries: ReadonlyArray<Statement>) {
    const db = native.db
    this.db = db
    this.prepare = native.prepare
    this.checkpoints = offloadCheckpoints(db)
    this.begin = db.prepare('begin immediate')
    this.commit = db.prepare('commit')
    this.rollback = db.prepare('rollback')
    // Prepared now when the schema is there; a store opened on a database not yet migrated prepares on first use.
    try {
      for (const q of queries) this.prepare(singleForm(q).sql)
    } catch {
      // not migrated yet
    }
  }

  /** Runs a statement now, synchronously: only inside `whenFree` or a batch. */
  runNow<R>(q: Prepared<R>, args: ReadonlyArray<Param>): R[] {
    const s = this.prepare(q.sql)
    const params = q.params(args)
    if (s.reader) return s.all(params) as R[]
    s.run(params)
    return []
  }

  /** Runs a synchronous read now, or once a transaction that holds the connection has ended. */
  whenFree<R>(run: () => R): Promise<R> {
    if (this.held) return this.held.then(() => this.whenFree(run))
    try {
      return Promise.resolve(run())
    } catch (e) {
      return Promise.reject(e)
    }
  }

  all<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.whenFree(() => this.runNow(q, args))
  }

  load<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.all(q.one, args)
  }

  write<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]> {
    return this.enqueue(() => this.runNow(q, args))
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
      this.enqueue(() => q.split(this.runNow(q.statement, [...args, all.length]), all.length)).then(settle.answer, settle.fail)
    }
    const joined = callers
    return new Promise<O>((resolve, reject) => joined.push({ resolve, reject }))
  }

  append(q: PreparedInsert, row: ReadonlyArray<Param>): Promise<void> {
    const key = q.mergeKey(row)
    if (key === undefined) {
      return this.enqueue(() => {
        this.runNow(q.one, row)
      })
    }
    const queued = this.mergeable.get(key)
    if (queued) {
      q.merge!.combine(queued.row, row)
      return queued.committed
    }
    const merged = [...row]
    const committed = this.enqueue(() => {
      this.runNow(q.one, merged)
    })
    this.mergeable.set(key, { row: merged, committed })
    return committed
  }

  /** Nothing is kept here (the read cache is a decorator, sqlite-read-cache.ts). */
  changed(): void {}

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
    this.queue = []
    this.mergeable = new Map()
    this.combined = new Map()
    if (batch.length === 0) return
    // The batch runs synchronously from here to its last resolve, so no read comes between this and the commit.
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
