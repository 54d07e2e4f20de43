/**
 * @module connect
 * Opens a Kysely instance on the database a DatabaseUrl names: SQLite through better-sqlite3 (WAL, busy timeout,
 * foreign keys, a cache of prepared statements) or PostgreSQL through a bounded `pg` Pool (connection, statement and
 * query timeouts, so a database that is down makes calls fail in bounded time instead of hanging; the pool
 * reconnects by itself when the database returns).
 *
 * PostgreSQL schema: the tables live in the first schema of the connection's `search_path`. To put a deployment (or
 * a test) in its own schema, give it in the URL: `postgres://u@h/db?options=-c%20search_path%3Dmy_schema`
 * (the schema must exist).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely'
import pg from 'pg'
import type { DatabaseUrl } from '../database-url.js'
import { JOURNAL_SIZE_LIMIT } from './checkpointer.js'
import type { Database, Engine } from './schema.js'

export interface ConnectOptions {
  /**
   * Told about errors of idle or broken PostgreSQL connections (the pool drops them and reconnects on demand).
   * Gets only the error's code and message: never the URL or query parameters. Default: one line on stderr.
   */
  readonly onConnectionError?: (message: string) => void
  /** PostgreSQL pool overrides (tests use them to get short timeouts). */
  readonly pool?: Partial<Pick<pg.PoolConfig, 'max' | 'connectionTimeoutMillis' | 'idleTimeoutMillis' | 'statement_timeout' | 'query_timeout'>>
  /** SQLite: how long a writer waits for another process's lock, in milliseconds (default 5000). */
  readonly busyTimeoutMillis?: number
}

/**
 * The driver under Kysely, for the request path: SqlStore runs its few hot statements (compiled once from Kysely's
 * builder) straight on it, without Kysely's per-call driver, mutex and plugin work (see executor.ts).
 */
export type NativeHandle =
  | {
      readonly engine: 'sqlite'
      readonly db: BetterSqlite3.Database
      /** Prepares each distinct SQL text once: the one statement cache of the connection, Kysely's and the executor's. */
      readonly prepare: (text: string) => BetterSqlite3.Statement
    }
  | { readonly engine: 'postgres'; readonly pool: pg.Pool }

export interface Connection {
  readonly db: Kysely<Database>
  readonly engine: Engine
  readonly native: NativeHandle
}

/** PostgreSQL pool defaults: bounded in size and in every wait. */
export const poolDefaults = {
  max: 10,
  connectionTimeoutMillis: 2_000,
  idleTimeoutMillis: 30_000,
  /** The server cancels a statement after this (cleanly: the connection stays usable). */
  statement_timeout: 3_000,
  /** The client gives up on an answer after this (the server or the network is gone): the connection is dropped. */
  query_timeout: 5_000,
} as const

const INT8_OID = 20
const NUMERIC_OID = 1700

/** Type parsers of this pool only (not pg's global ones): BIGINT (times, ids, counts) as JS numbers. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
}

const describe = (e: unknown): string => {
  const err = e as { code?: unknown; message?: unknown }
  return [typeof err?.code === 'string' ? err.code : undefined, typeof err?.message === 'string' ? err.message : String(e)]
    .filter(Boolean)
    .join(': ')
}

const defaultReport = (message: string) => process.stderr.write(`consumer-auth: database connection error: ${message}\n`)

/** Prepares each distinct SQL text once (at most `limit` kept: provisioning's multi-row texts vary). */
const statementCache = (db: BetterSqlite3.Database, limit = 500) => {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    clear: () => cache.clear(),
    prepare: (text: string): BetterSqlite3.Statement => {
      let s = cache.get(text)
      if (s === undefined) {
        s = db.prepare(text)
        if (cache.size >= limit) cache.delete(cache.keys().next().value as string)
        cache.set(text, s)
      }
      return s
    },
  }
}

/** better-sqlite3 behind Kysely's SqliteDatabase, through the connection's statement cache. */
const kyselyDatabase = (db: BetterSqlite3.Database, cache: ReturnType<typeof statementCache>): SqliteDatabase => ({
  close: () => {
    cache.clear()
    db.close()
  },
  prepare: (text: string): SqliteStatement => cache.prepare(text) as unknown as SqliteStatement,
})

/** Private to the service's user whatever the umask: the files hold key digests and pass-code hashes. */
const DIRECTORY_MODE = 0o700
const FILE_MODE = 0o600

/**
 * The directories that are missing are created 0700 (an existing one is left as the operator set it), and a new
 * database file 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
 */
const createPrivately = (path: string): void => {
  const missing: string[] = []
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) missing.unshift(dir)
  for (const dir of missing) {
    mkdirSync(dir, { mode: DIRECTORY_MODE, recursive: true })
    chmodSync(dir, DIRECTORY_MODE)
  }
  if (!existsSync(path)) {
    try {
      closeSync(openSync(path, 'wx', FILE_MODE))
      chmodSync(path, FILE_MODE)
    } catch (e) {
      // Another process created it first: its mode is its creator's.
      if ((e as { code?: unknown }).code !== 'EEXIST') throw e
    }
  }
}

const openSqlite = (path: string, options: ConnectOptions): Connection => {
  const inMemory = path === ':memory:' || path === ''
  if (!inMemory) createPrivately(path)
  const raw = new BetterSqlite3(path)
  try {
    raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMillis ?? 5_000))}`)
    if (!inMemory) {
      raw.pragma('journal_mode = WAL')
      raw.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`)
    }
    raw.pragma('synchronous = NORMAL')
    raw.pragma('foreign_keys = ON')
  } catch (e) {
    raw.close()
    throw e
  }
  const cache = statementCache(raw)
  return {
    engine: 'sqlite',
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: kyselyDatabase(raw, cache) }) }),
    native: { engine: 'sqlite', db: raw, prepare: cache.prepare },
  }
}

/**
 * After a client-side query timeout the connection still waits for the abandoned answer (and, if the server or the
 * network is gone, may do so until TCP gives up, minutes later); so end it: an ending client is not returned to the
 * pool, and the next query opens a fresh connection.
 */
const dropOnReadTimeout = (client: pg.PoolClient) => {
  const query = client.query as (...args: unknown[]) => unknown
  client.query = function (this: pg.PoolClient, ...args: unknown[]) {
    const result = query.apply(this, args)
    if (result instanceof Promise) {
      result.catch((e: unknown) => {
        if ((e as Error | undefined)?.message === 'Query read timeout') void client.end().catch(() => undefined)
      })
    }
    return result
  } as typeof client.query
}

const openPostgres = (url: string, options: ConnectOptions): Connection => {
  const report = options.onConnectionError ?? defaultReport
  const pool = new pg.Pool({
    connectionString: url,
    ...poolDefaults,
    ...options.pool,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    allowExitOnIdle: true,
    types,
  })
  // An unhandled 'error' event would end the process. Every client reports its own errors (idle or in use: the
  // pool also re-emits those of idle clients, already reported, so its handler only keeps the process alive). The
  // broken client is dropped and the next query opens a new one.
  pool.on('connect', (client) => {
    client.on('error', (e) => report(describe(e)))
    dropOnReadTimeout(client)
  })
  pool.on('error', () => undefined)
  return { engine: 'postgres', db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), native: { engine: 'postgres', pool } }
}

export const connect = (db: DatabaseUrl, options: ConnectOptions = {}): Connection =>
  db.engine === 'sqlite' ? openSqlite(db.path, options) : openPostgres(db.url, options)
