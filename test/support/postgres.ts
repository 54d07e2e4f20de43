/**
 * @module test/support/postgres
 * PostgreSQL for tests: each suite (or test) gets its own schema `ca_test_<random>` on the test database, selected
 * through the connection URL (`?options=-c search_path=<schema>`), and drops it afterwards.
 *
 * The database: TEST_POSTGRES_URL, else DATABASE_URL when it is a postgres:// URL, else
 * postgres://postgres@127.0.0.1:5432/test. When it is unreachable, PostgreSQL suites are skipped with a loud
 * warning, except when CI is set: then they fail.
 *
 *   import { describeWithPostgres, withPostgresSchema } from '../support/postgres.js'
 *   describeWithPostgres('my suite', () => {
 *     let pg: PostgresSchema
 *     beforeAll(async () => { pg = await withPostgresSchema() })   // pg.database is a DatabaseUrl
 *     afterAll(async () => pg.drop())
 *   })
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { beforeAll, describe } from 'vitest'
import type { DatabaseUrl } from '../../composition/config.js'

const fromEnv = (): string => {
  const explicit = process.env['TEST_POSTGRES_URL']
  if (explicit) return explicit
  const db = process.env['DATABASE_URL']
  if (db && /^postgres(ql)?:\/\//.test(db)) return db
  return 'postgres://postgres@127.0.0.1:5432/test'
}

/** The URL of the test database (without a search_path). */
export const postgresTestUrl: string = fromEnv()

/** The test URL with the password masked, for messages. */
const shownUrl = (() => {
  try {
    const u = new URL(postgresTestUrl)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
})()

/** `url` with its connections' search_path set to `schema` (and an application_name, to find them). */
export const withSearchPath = (url: string, schema: string, applicationName?: string): string => {
  const u = new URL(url)
  const params = [`options=${encodeURIComponent(`-c search_path=${schema}`)}`]
  if (applicationName !== undefined) params.push(`application_name=${encodeURIComponent(applicationName)}`)
  u.search = [u.search.replace(/^\?/, ''), ...params].filter(Boolean).join('&')
  return u.toString()
}

const adminQuery = async (text: string): Promise<pg.QueryResult> => {
  const client = new pg.Client({ connectionString: postgresTestUrl, connectionTimeoutMillis: 2_000 })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await client.query(text)
  } finally {
    await client.end().catch(() => undefined)
  }
}

let available: Promise<boolean> | undefined

/** Is the test database reachable? Asked once per test file. */
const postgresAvailable = (): Promise<boolean> =>
  (available ??= (async () => {
    // A loaded machine (the suite runs test files in parallel) can miss one 2 s connect: try a few times first.
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        await adminQuery('select 1')
        return true
      } catch {
        await new Promise((r) => setTimeout(r, 500 * attempt))
      }
    }
    return false
  })())

export interface PostgresSchema {
  /** The schema's name, `ca_test_<random>`. */
  readonly schema: string
  /** A URL whose connections use the schema (and carry `application_name` = the schema's name). */
  readonly url: string
  readonly database: DatabaseUrl
  /** Runs a statement as the admin connection (outside the schema's search_path unless qualified). */
  admin(text: string): Promise<pg.QueryResult>
  /** Drops the schema and everything in it. */
  drop(): Promise<void>
}

/** Creates a fresh, empty schema on the test database. */
export const withPostgresSchema = async (): Promise<PostgresSchema> => {
  const schema = `ca_test_${randomBytes(6).toString('hex')}`
  await adminQuery(`create schema ${schema}`)
  const url = withSearchPath(postgresTestUrl, schema, schema)
  return {
    schema,
    url,
    database: { engine: 'postgres', url },
    admin: adminQuery,
    drop: async () => {
      await adminQuery(`drop schema if exists ${schema} cascade`)
    },
  }
}

const banner = (why: string) =>
  [
    '',
    '#'.repeat(100),
    `#  SKIPPED: PostgreSQL tests (${why}).`,
    `#  ${shownUrl} is not reachable. Start PostgreSQL or set TEST_POSTGRES_URL; with CI set, this fails.`,
    '#'.repeat(100),
    '',
  ].join('\n')

/**
 * `describe` for suites that need PostgreSQL: runs them when the database is reachable; otherwise fails them when
 * CI is set, and skips them with a warning banner when not.
 */
export const describeWithPostgres = async (name: string, body: () => void): Promise<void> => {
  if (await postgresAvailable()) {
    describe(name, body)
  } else if (process.env['CI']) {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`PostgreSQL at ${shownUrl} is not reachable, and CI is set: PostgreSQL tests must run in CI`)
      })
      body()
    })
  } else {
    console.warn(banner(name))
    describe.skip(name, body)
  }
}
