/**
 * @module statements
 * The kinds of statement the SQL store's request path declares (queries.ts, attempt-counters.ts, storage-bounds.ts):
 * each compiled once from Kysely's builder, so there is one SQL text per statement for every way it runs, and bound
 * to new arguments on each execution. What a kind says is how its callers may share an execution; how they do is
 * the executors' business (executor.ts).
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely'
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

  /** Through Kysely: on a transaction's connection. */
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
  constructor(
    readonly one: Prepared<R>,
    readonly many: Prepared<R> | undefined,
    readonly keyOfRow: (row: R) => string,
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
  /**
   * @param autocommit the form PostgreSQL's executor runs as a statement of its own (its own transaction, never a
   *   caller's): the same write, which may also say how its commit is flushed (attempt-counters.ts); `statement`
   *   serves SQLite and transactions
   */
  constructor(
    readonly statement: Prepared<R>,
    readonly split: (rows: ReadonlyArray<R>, callers: number) => O[],
    readonly autocommit: Prepared<R> = statement,
  ) {}

  /** Callers with equal arguments are combined. */
  static keyOf(q: CombinedWrite<unknown, unknown>, args: ReadonlyArray<Param>): string {
    return `${q.statement.name}\u0000${args.join('\u0000')}`
  }
}

/** Every kind, as an executor prepares them ahead. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Statement = Prepared<any> | PreparedInsert | BatchedRead<any> | CombinedWrite<any, any>

/** The one compiled statement of a declaration that SQLite runs (the single-row or single-caller form). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const singleForm = (q: Statement): Prepared<any> =>
  q instanceof PreparedInsert || q instanceof BatchedRead ? q.one : q instanceof CombinedWrite ? q.statement : q
