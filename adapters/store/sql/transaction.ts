/**
 * @module transaction
 * All-or-nothing work on the SQL store (provisioning: an import, a user with its units). The work gets the Kysely
 * connection of the transaction, on which the store it is handed runs every statement (executor.ts,
 * kyselyExecutor): nothing of it is batched with the request path's statements, nor committed with them.
 */
import { sql, type Kysely } from 'kysely'
import type { Executor } from './executor.js'
import type { Database, Engine } from './schema.js'

/**
 * PostgreSQL: Kysely's transaction on a pooled connection of its own. SQLite: the one connection, under BEGIN
 * IMMEDIATE, which takes the write lock at once (waiting up to busy_timeout for another process), so a transaction
 * that reads and then writes cannot fail half-way on a lock held by another process; the executor shares that
 * connection, so it waits until the transaction ends rather than run inside it (`exclusive`).
 */
export const runTransaction = <T>(db: Kysely<Database>, engine: Engine, executor: Executor, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> => {
  if (engine === 'postgres') return db.transaction().execute(work)
  return db.connection().execute((conn) =>
    executor.exclusive(async () => {
      await sql`begin immediate`.execute(conn)
      try {
        const result = await work(conn)
        await sql`commit`.execute(conn)
        return result
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => undefined)
        throw e
      }
    }))
}
