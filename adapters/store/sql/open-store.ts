/**
 * @module open-store
 * Opens the SQL store (SQLite or PostgreSQL) that a DatabaseUrl names, migrating it first unless told not to.
 *
 * - SQLite (`sqlite:PATH`): the file's directory is created when missing; WAL mode, busy timeout 5 s, foreign keys.
 * - PostgreSQL (`postgres://...`): a pool of at most 10 connections, 2 s to connect, 5 s per statement; the tables
 *   live in the first schema of the search_path, which the URL can set:
 *   `postgres://user@host/db?options=-c%20search_path%3Dmy_schema` (the schema must exist).
 */
import type { DatabaseUrl } from '../database-url.js'
import type { Store } from '../store.js'
import { connect, type ConnectOptions } from './connect.js'
import { runMigrations } from './migrations.js'
import { SqlStore } from './sql-store.js'

export interface OpenSqlStoreOptions extends ConnectOptions {
  /** Apply pending migrations before answering (default true). With false, `ping()` rejects until migrated. */
  readonly migrate?: boolean
}

export const openSqlStore = async (db: DatabaseUrl, options: OpenSqlStoreOptions = {}): Promise<Store> => {
  const { db: kysely, engine, native } = connect(db, options)
  try {
    if (options.migrate ?? true) await runMigrations(kysely, engine)
  } catch (e) {
    await kysely.destroy().catch(() => undefined)
    throw e
  }
  return new SqlStore(kysely, engine, { native })
}

/** Applies the pending migrations (safe to run from several instances at once); answers the names it applied. */
export const migrateDatabase = async (db: DatabaseUrl, options: ConnectOptions = {}): Promise<{ applied: ReadonlyArray<string> }> => {
  const { db: kysely, engine } = connect(db, options)
  try {
    return await runMigrations(kysely, engine)
  } finally {
    await kysely.destroy().catch(() => undefined)
  }
}
