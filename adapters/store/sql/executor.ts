/**
 * @module executor
 * How the SQL store runs the statements it declares (statements.ts). One interface, three executors:
 *
 * - SQLite (sqlite-executor.ts): better-sqlite3 statements prepared once, reads synchronous on the one connection,
 *   writes group-committed; its read cache is a decorator over it (sqlite-read-cache.ts);
 * - PostgreSQL (postgres-executor.ts): `pg` named prepared statements, the reads, appends and combined writes of one
 *   moment batched into one statement each;
 * - a transaction's connection (below): every statement on its own, through Kysely, inside the transaction.
 *
 * Whatever the executor, the semantics are those of one statement per call, durability before the answer included
 * (one exception, argued in attempt-counters.ts: PostgreSQL's combined counter writes do not wait for the flush, which
 * the attempt's audit row then makes); only the number of statements, transactions and round trips differs.
 */
import type { Kysely } from 'kysely'
import type { Database } from './schema.js'
import type { BatchedRead, CombinedWrite, Param, Prepared, PreparedInsert } from './statements.js'

export interface Executor {
  /** One statement on its own: a read, or a write that must not wait for a batch. */
  all<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]>
  /** A read shared with the callers of the same read at this moment where that saves round trips (PostgreSQL). */
  load<R>(q: BatchedRead<R>, args: ReadonlyArray<Param>): Promise<R[]>
  /** A write whose answer is needed (an upsert RETURNING), in the group commit where the engine allows it. */
  write<R>(q: Prepared<R>, args: ReadonlyArray<Param>): Promise<R[]>
  /** A write combined with the callers of equal arguments waiting with it (see CombinedWrite). */
  combine<R, O>(q: CombinedWrite<R, O>, args: ReadonlyArray<Param>): Promise<O>
  /** Appends one row; resolves once it is committed, together with the other writes of this moment. */
  append(q: PreparedInsert, row: ReadonlyArray<Param>): Promise<void>
  /** Runs `work` while it holds the connection for a transaction of its own (SQLite: the executor waits meanwhile). */
  exclusive<T>(work: () => Promise<T>): Promise<T>
  /** Something other than the executor ran a statement on this connection (it may have written): forget read rows. */
  changed(): void
  /** Writes what is queued; afterwards nothing more is accepted. */
  close(): Promise<void>
}

/** One caller of a statement that several share. */
export interface Caller<O> {
  readonly resolve: (answer: O) => void
  readonly reject: (e: unknown) => void
}

/** Hands each caller its answer (or the error) once the one statement has run. */
export const settleCallers = <O>(callers: ReadonlyArray<Caller<O>>) => ({
  answer: (answers: ReadonlyArray<O>) => callers.forEach((c, i) => c.resolve(answers[i] as O)),
  fail: (e: unknown) => callers.forEach((c) => c.reject(e)),
})

/** On a transaction's connection (or a store opened without its driver): each call is its own statement. */
export const kyselyExecutor = (db: Kysely<Database>): Executor => ({
  all: (q, args) => q.run(db, args),
  load: (q, args) => q.one.run(db, args),
  write: (q, args) => q.run(db, args),
  combine: (q, args) => q.statement.run(db, [...args, 1]).then((rows) => q.split(rows, 1)[0]!),
  append: async (q, row) => {
    await q.one.run(db, row)
  },
  exclusive: (work) => work(),
  changed: () => undefined,
  close: async () => undefined,
})
