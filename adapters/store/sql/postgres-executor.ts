/**
 * @module postgres-executor
 * The PostgreSQL executor (executor.ts): `pg` named prepared statements (`{ name, text, values }`), so each pooled
 * connection parses and plans a statement once and later calls only bind and execute. What concurrent requests ask
 * at one moment shares statements, each caller still getting its own answer once its statement has run:
 *
 * - reads of one kind go in one query (BatchedRead): round trips, not answers, are shared;
 * - appended audit rows go in one multi-row INSERT, one in flight per table (group commit);
 * - the callers of one combined write (the claims and give-backs of one attempt counter) go in one statement, one
 *   in flight per row, so they never queue on the row's lock within an instance.
 */
import type pg from 'pg'
import { settleCallers, type Caller, type Executor } from './executor.js'
import { BatchedRead, CombinedWrite, type Param, type Prepared, type PreparedInsert } from './statements.js'

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
  readonly callers: Array<Caller<R[]>>
}

/** The callers of one combined write (see CombinedWrite): at most one statement in flight, the others wait for the next. */
interface CombineQueue {
  readonly args: ReadonlyArray<Param>
  waiting: Array<Caller<unknown>>
}

export class PostgresExecutor implements Executor {
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
    const done = this.query(q.autocommit, q.autocommit.params([...s.args, callers.length])).then(
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
