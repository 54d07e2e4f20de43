import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Store } from '../../adapters/store/store.js'
import { migrateDatabase, openSqlStore } from '../../adapters/store/sql/open-store.js'
import { migrations } from '../../adapters/store/sql/migrations.js'
import { describeWithPostgres, postgresTestUrl, withPostgresSchema, withSearchPath, type PostgresSchema } from '../support/postgres.js'
import { addAttempt } from '../support/attempts.js'
import { storeContract } from './store-contract.js'
import { provisionDigestedSecrets, secretColumnProblems, testDigest } from './sql-secrets.js'
import { EXAMPLE_CODE, EXAMPLE_KEY } from '../support/example.js'

await describeWithPostgres('PostgreSQL store', () => {
  // One schema per test of the contract: created, migrated, dropped.
  storeContract('PostgreSQL', async () => {
    const pg = await withPostgresSchema()
    const store = await openSqlStore(pg.database)
    return {
      store,
      openAnother: () => openSqlStore(pg.database),
      cleanup: async () => {
        await store.close()
        await pg.drop()
      },
    }
  })

  describe('PostgreSQL specifics', () => {
    let pg: PostgresSchema
    beforeAll(async () => {
      pg = await withPostgresSchema()
    })
    afterAll(async () => pg?.drop())

    test('migrators started at once apply each migration exactly once, into the schema of the search_path', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => migrateDatabase(pg.database)))
      expect(results.flatMap((r) => r.applied).sort()).toEqual(migrations.map((m) => m.name).sort())
      const { rows } = await pg.admin(`select table_name from information_schema.tables where table_schema = '${pg.schema}' order by 1`)
      expect(rows.map((r) => r.table_name)).toContain('access_tokens')
      expect(rows.map((r) => r.table_name)).toContain('schema_migrations')
      const again = await Promise.all(Array.from({ length: 3 }, () => openSqlStore(pg.database)))
      for (const s of again) {
        await s.ping()
        await s.close()
      }
    })

    test('ping rejects on a schema that was not migrated', async () => {
      const empty = await withPostgresSchema()
      const store = await openSqlStore(empty.database, { migrate: false })
      try {
        await expect(store.ping()).rejects.toThrow()
      } finally {
        await store.close()
        await empty.drop()
      }
    })

    test('holds no clear-text secret: no column for one, and no table dump contains one', async () => {
      const store = await openSqlStore(pg.database)
      try {
        await provisionDigestedSecrets(store)
      } finally {
        await store.close()
      }
      const { rows: columns } = await pg.admin(
        `select table_name || '.' || column_name as c from information_schema.columns where table_schema = '${pg.schema}'`)
      expect(secretColumnProblems(columns.map((r) => r.c as string))).toEqual([])
      const { rows: tables } = await pg.admin(`select table_name from information_schema.tables where table_schema = '${pg.schema}'`)
      let dump = ''
      for (const t of tables) dump += JSON.stringify((await pg.admin(`select * from ${pg.schema}.${t.table_name}`)).rows)
      expect(dump).toContain(testDigest(EXAMPLE_KEY))
      expect(dump).not.toContain(EXAMPLE_KEY)
      expect(dump).not.toContain(EXAMPLE_CODE)
    })

    test('an unreachable database makes opening and every call fail promptly, without hanging', async () => {
      const errors: string[] = []
      const down = { engine: 'postgres' as const, url: 'postgres://postgres@127.0.0.1:1/test' }
      const started = Date.now()
      await expect(openSqlStore(down, { onConnectionError: (m) => errors.push(m) })).rejects.toThrow()
      const store = await openSqlStore(down, { migrate: false, onConnectionError: (m) => errors.push(m) })
      await expect(store.ping()).rejects.toThrow()
      await expect(store.findKeyByDigest('d')).rejects.toThrow()
      await expect(addAttempt(store, 's', 1, 900)).rejects.toThrow()
      await store.close()
      expect(Date.now() - started).toBeLessThan(5_000)
    })

    test('a connection that does not answer times out within the connection timeout', async () => {
      // A listening socket that never speaks the protocol: the pool gives up after connectionTimeoutMillis.
      const net = await import('node:net')
      const sockets: import('node:net').Socket[] = []
      const server = net.createServer((s) => void sockets.push(s))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const port = (server.address() as import('node:net').AddressInfo).port
      const store = await openSqlStore(
        { engine: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/test` },
        { migrate: false, pool: { connectionTimeoutMillis: 300 }, onConnectionError: () => undefined },
      )
      try {
        const started = Date.now()
        await expect(store.findOrganisation('x')).rejects.toThrow()
        expect(Date.now() - started).toBeLessThan(2_000)
      } finally {
        await store.close()
        for (const s of sockets) s.destroy()
        await new Promise((resolve) => server.close(resolve))
      }
    })

    test('a statement that gets no answer is abandoned in bounded time, and the store goes on working', async () => {
      const store = await openSqlStore(pg.database, { pool: { query_timeout: 300, statement_timeout: 0 }, onConnectionError: () => undefined })
      const pgAdmin = await import('pg')
      const admin = new pgAdmin.default.Client({ connectionString: pg.url })
      await admin.connect()
      try {
        await addAttempt(store, 'locked', 1, 900)
        // Another connection holds the counter's row: the upsert waits for it, and the client gives up.
        await admin.query('begin')
        await admin.query(`select * from attempt_counters where subject = 'locked' for update`)
        const started = Date.now()
        await expect(addAttempt(store, 'locked', 2, 900)).rejects.toThrow('Query read timeout')
        expect(Date.now() - started).toBeLessThan(1_500)
        // Still locked: the connection left waiting for the abandoned answer is not reused.
        expect(await store.getAttempts('other')).toBeUndefined()
        await store.ping()
        await admin.query('rollback')
      } finally {
        await admin.end()
        await store.close()
      }
    })

    test('recovers by itself when its connections are killed', async () => {
      const errors: string[] = []
      const store: Store = await openSqlStore(pg.database, { onConnectionError: (m) => errors.push(m) })
      try {
        await store.upsertOrganisation({ id: 'o', name: 'O', consumerUser: 'u' })
        await Promise.all([store.ping(), store.ping(), store.findOrganisation('o')])
        const { rowCount } = await pg.admin(
          `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${pg.schema}' and pid <> pg_backend_pid()`)
        expect(rowCount).toBeGreaterThan(0)
        await new Promise((r) => setTimeout(r, 100))
        // Killed idle connections are dropped and reported (no secret in the report); new ones are opened on demand.
        expect(await store.findOrganisation('o')).toEqual({ id: 'o', name: 'O', consumerUser: 'u' })
        await store.ping()
        expect(errors.length).toBeGreaterThan(0)
        for (const e of errors) expect(e).not.toContain('postgres://')
      } finally {
        await store.close()
      }
    })

    test('a search_path URL keeps two schemas apart', async () => {
      const other = await withPostgresSchema()
      const a = await openSqlStore(pg.database)
      const b = await openSqlStore({ engine: 'postgres', url: withSearchPath(postgresTestUrl, other.schema) })
      try {
        await a.upsertOrganisation({ id: 'only-in-a', name: 'A', consumerUser: 'u' })
        expect(await b.findOrganisation('only-in-a')).toBeUndefined()
      } finally {
        await a.close()
        await b.close()
        await other.drop()
      }
    })
  })
})
