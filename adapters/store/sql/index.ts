/**
 * @module sql
 * The SQL stores (SQLite and PostgreSQL over one Kysely query layer) and their migrations.
 */
export { openSqlStore, migrateDatabase, type OpenSqlStoreOptions } from './open-store.js'
export { SqlStore } from './sql-store.js'
export { migrations, latestMigration, runMigrations, type Migration } from './migrations.js'
export { connect, poolDefaults, type ConnectOptions } from './connect.js'
export type { Database, Engine } from './schema.js'
