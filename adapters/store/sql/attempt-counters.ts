/**
 * @module attempt-counters
 * The SQL of the lock-out's one store primitive (core/lockout.ts AttemptCounter), for SQLite and PostgreSQL: the
 * claims of one subject that wait together are one upsert, and so are their give-backs (CombinedWrite in
 * statements.ts). Concurrent logins with one key therefore write the key's counter row once per batch instead of three
 * times per login (claim, give back, delete the emptied row), each write queued on that row's lock.
 *
 * A counter given back to 0 is not deleted: its window is set to 0, which has ended for every claim, so the next claim
 * starts a new window and the pruning job drops the row with the other ended ones (storage-bounds.ts); reads leave
 * it out, as it counts nothing.
 *
 * On PostgreSQL the combined writes, each a transaction of its own, commit without waiting for the WAL flush
 * (`synchronous_commit` off for that transaction only, set by the statement itself). The count is still atomic and
 * seen at once by every connection and instance (only the flush is later), and an answer never depends on an
 * unflushed count: a counted failure is answered after its `failed` audit row commits, synchronously, and that flush
 * covers every earlier WAL record, the claim's included. What a crash of PostgreSQL can lose is the claims of attempts
 * not answered yet and give-backs of successes (a count one too high until the window ends). Before, each claim and
 * give-back waited for a flush of its own, one after the other on the key's row: the service's largest wait on
 * PostgreSQL (docs/performance.md). SQLite's commits are not flushed one by one either (WAL, synchronous=NORMAL).
 */
import { sql, type Compilable, type Kysely, type Selectable } from 'kysely'
import type { CounterClaim } from '../../../core/index.js'
import type { AttemptCount } from '../store.js'
import { arg, CombinedWrite, Prepared, type Param } from './statements.js'
import type { AttemptCountersTable, Database, Engine } from './schema.js'

type CounterRow = Selectable<AttemptCountersTable>

/**
 * Returned by a PostgreSQL counter write for each row it writes: its transaction (the statement) commits without
 * waiting for the WAL flush (see the module comment). A statement that writes no row writes no WAL to wait for.
 */
const commitUnflushed = sql<string>`set_config('synchronous_commit', 'off', true)`.as('synchronous_commit')

/** The plain statement, and (PostgreSQL) its form of its own transaction: CombinedWrite's `autocommit`. */
const bothForms = <R>(name: string, engine: Engine, build: (autocommit: boolean) => Compilable<R>): [Prepared<R>, Prepared<R>] => {
  const plain = new Prepared<R>(name, build(false))
  return [plain, engine === 'postgres' ? new Prepared<R>(`${name}_autocommit`, build(true)) : plain]
}

/**
 * The arguments of `claimAttempts` for one claim. A limit below 1 refuses as 1 does (core/lockout.ts afterClaim
 * grants the first claim of a window whatever the limit).
 */
export const claimArguments = (subject: string, claim: CounterClaim): Param[] => [subject, claim.now, claim.staleAtOrBefore, Math.max(1, claim.limit)]

/** A window of no length (every claim starts its own) cannot be shared: such a claim runs on its own. */
export const claimCanCombine = (claim: CounterClaim): boolean => claim.staleAtOrBefore < claim.now

/** The callers of one claim statement, in the order they asked: the first `granted` get the counts it added. */
const grantInOrder = (rows: ReadonlyArray<CounterRow>, callers: number): Array<AttemptCount | undefined> => {
  const r = rows[0]
  const granted = r?.granted ?? 0
  return Array.from({ length: callers }, (_, i) =>
    r !== undefined && i < granted ? { subject: r.subject, failures: r.failures - granted + 1 + i, windowStart: r.window_start } : undefined)
}

/**
 * core/lockout.ts afterClaim applied n times, atomically (across instances too): $1 subject, $2 now, $3 the moment at
 * or before which a window is over, $4 the limit, $5 n. A current window grants least(n, limit - failures), an
 * ended one (or none) starts again with least(n, limit); `granted` tells the caller how many (PostgreSQL 15 cannot
 * return the row as it was). The CASEs read the row as it was before the update; a window at the limit matches the
 * WHERE of no row, changes nothing and returns nothing (all refused).
 */
export const claimAttempts = (db: Kysely<Database>, engine: Engine): CombinedWrite<CounterRow, AttemptCount | undefined> => {
  const least = sql.raw(engine === 'postgres' ? 'least' : 'min')
  const n = sql<number>`cast(${arg(4)} as integer)`
  const limit = sql<number>`cast(${arg(3)} as integer)`
  const current = sql<boolean>`attempt_counters.window_start > ${arg<number>(2)}`
  const fresh = sql<number>`${least}(${n}, ${limit})`
  const more = sql<number>`${least}(${n}, ${limit} - attempt_counters.failures)`
  const [statement, autocommit] = bothForms<CounterRow>('ca_claim_attempts', engine, (unflushed) => {
    const q = db
      .insertInto('attempt_counters')
      .values({ subject: arg(0), failures: fresh, window_start: arg<number>(1), granted: fresh })
      .onConflict((oc) =>
        oc
          .column('subject')
          .doUpdateSet({
            failures: sql<number>`case when ${current} then attempt_counters.failures + ${more} else ${fresh} end`,
            window_start: sql<number>`case when ${current} then attempt_counters.window_start else ${arg<number>(1)} end`,
            granted: sql<number>`case when ${current} then ${more} else ${fresh} end`,
          })
          .where((eb) => eb.or([eb('attempt_counters.window_start', '<=', arg<number>(2)), eb('attempt_counters.failures', '<', limit)])))
      .returningAll()
    return unflushed ? q.returning(commitUnflushed) : q
  })
  return new CombinedWrite(statement, grantInOrder, autocommit)
}

/**
 * core/lockout.ts afterGiveBack applied n times: $1 subject, $2 the window the claims were counted in (none comes off
 * a newer one), $3 n. A counter left at 0 gets the ended window 0 (see the module comment).
 */
export const giveBackAttempts = (db: Kysely<Database>, engine: Engine): CombinedWrite<unknown, void> => {
  const least = sql.raw(engine === 'postgres' ? 'least' : 'min')
  const n = sql<number>`cast(${arg(2)} as integer)`
  const [statement, autocommit] = bothForms<unknown>('ca_give_back_attempts', engine, (unflushed) => {
    const q = db
      .updateTable('attempt_counters')
      .set({
        failures: sql<number>`failures - ${least}(failures, ${n})`,
        window_start: sql<number>`case when failures <= ${n} then 0 else window_start end`,
      })
      .where('subject', '=', arg(0))
      .where('window_start', '=', arg<number>(1))
      .where('failures', '>', 0)
    return unflushed ? q.returning(commitUnflushed) : q
  })
  return new CombinedWrite(statement, (_, callers) => new Array<void>(callers).fill(undefined), autocommit)
}
