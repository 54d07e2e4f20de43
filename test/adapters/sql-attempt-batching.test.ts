/**
 * The SQL store's attempt counters under a burst on one subject (docs/performance.md, PostgreSQL): the claims of one
 * subject that wait together are one statement, and so are the give-backs, on both engines. Before, every claim and
 * every give-back was its own statement on the one row (plus a DELETE of the emptied row), so concurrent logins with
 * one key queued on that row's lock. The counts each caller gets stay those of one claim after the other, in the
 * order asked; a counter given back to 0 counts nothing, and the pruning job drops its row.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import { connect, type Connection } from '../../adapters/store/sql/connect.js'
import { runMigrations } from '../../adapters/store/sql/migrations.js'
import { SqlStore } from '../../adapters/store/sql/sql-store.js'
import { startStoragePruner } from '../../adapters/store/storage-pruner.js'
import type { DatabaseUrl } from '../../adapters/store/database-url.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'

const NOW = 1_700_000_000
const W = 900
const claimAt = (now: number, limit: number) => ({ now, staleAtOrBefore: now - W, limit })

/** Counts the statements on attempt_counters that reach the driver, and answers how many rows the table holds. */
const instrument = (c: Connection): { statements: () => number; reset: () => void; rows: () => Promise<number> } => {
  let n = 0
  const counts = (text: string) => text.includes('attempt_counters')
  if (c.native.engine === 'sqlite') {
    const raw = c.native.db
    const prepare = raw.prepare.bind(raw)
    raw.prepare = ((text: string) => {
      const s = prepare(text)
      if (!counts(text)) return s
      return new Proxy(s, {
        get(target, p) {
          const v = Reflect.get(target, p, target) as unknown
          if (typeof v !== 'function') return v
          return (...args: unknown[]) => {
            if (p === 'run' || p === 'all' || p === 'get') n++
            return (v as (...a: unknown[]) => unknown).apply(target, args)
          }
        },
      })
    }) as typeof raw.prepare
    return {
      statements: () => n,
      reset: () => (n = 0),
      rows: async () => (prepare('select count(*) as n from attempt_counters').get() as { n: number }).n,
    }
  }
  const pool = c.native.pool
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    client.query = ((...args: unknown[]) => {
      const q = args[0] as { text?: string } | string
      if (counts(typeof q === 'string' ? q : (q.text ?? ''))) n++
      return query(...args)
    }) as typeof client.query
  })
  return {
    statements: () => n,
    reset: () => (n = 0),
    rows: async () => Number((await pool.query<{ n: string }>('select count(*) as n from attempt_counters')).rows[0]!.n),
  }
}

const suite = (name: string, database: () => Promise<{ url: DatabaseUrl; cleanup: () => Promise<void> }>) =>
  describe(`attempt counters under a burst: ${name}`, () => {
    let store: SqlStore
    let counted: ReturnType<typeof instrument>
    let cleanup: () => Promise<void>
    beforeEach(async () => {
      const db = await database()
      cleanup = db.cleanup
      const c = connect(db.url)
      counted = instrument(c)
      await runMigrations(c.db, c.engine)
      store = new SqlStore(c.db, c.engine, { native: c.native })
    })
    afterEach(async () => {
      await store.close()
      await cleanup()
    })

    test('the claims of a burst are one statement, the give-backs another, and each caller gets its own count in order', async () => {
      await store.claimAttempt('key:k', claimAt(NOW, 100))
      counted.reset()
      const claims = await Promise.all(Array.from({ length: 50 }, () => store.claimAttempt('key:k', claimAt(NOW, 100))))
      expect(claims.map((c) => c?.failures)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2))
      expect(claims.every((c) => c?.windowStart === NOW)).toBe(true)
      await Promise.all(claims.map((c) => store.giveBackAttempt('key:k', c!.windowStart)))
      expect(await store.getAttempts('key:k')).toEqual({ subject: 'key:k', failures: 1, windowStart: NOW })
      // One claim and one give-back statement (allow a second of each, should the burst straddle two batches).
      expect(counted.statements()).toBeLessThanOrEqual(5)
    })

    test('a burst larger than what is left: exactly what is left is granted, to the first callers', async () => {
      for (let i = 0; i < 5; i++) await store.claimAttempt('b', claimAt(NOW, 25))
      counted.reset()
      const results = await Promise.all(Array.from({ length: 300 }, () => store.claimAttempt('b', claimAt(NOW + 1, 25))))
      expect(results.slice(0, 20).map((r) => r?.failures)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6))
      expect(results.slice(20).every((r) => r === undefined)).toBe(true)
      expect(await store.getAttempts('b')).toEqual({ subject: 'b', failures: 25, windowStart: NOW })
      expect(counted.statements()).toBeLessThanOrEqual(3)
    })

    test('a counter given back to 0 counts nothing, starts a new window when claimed again, and the pruning job drops its row', async () => {
      const first = await store.claimAttempt('address:a', claimAt(NOW, 20))
      await store.claimAttempt('key:live', claimAt(NOW, 20))
      await store.giveBackAttempt('address:a', first!.windowStart)
      expect(await store.getAttempts('address:a')).toBeUndefined()
      expect(await store.listAttemptCounts()).toEqual([{ subject: 'key:live', failures: 1, windowStart: NOW }])
      expect(await store.claimAttempt('address:a', claimAt(NOW + 5, 20))).toEqual({ subject: 'address:a', failures: 1, windowStart: NOW + 5 })
      await store.giveBackAttempt('address:a', NOW + 5)

      // The window of key:live has not ended: the job keeps it and drops the empty row.
      const pruner = startStoragePruner(store, { retentionDays: 30, lockoutWindowSeconds: W, clock: { nowSeconds: () => NOW + 10 } as never })
      try {
        await pruner.runOnce()
      } finally {
        await pruner.stop()
      }
      expect(await counted.rows()).toBe(1)
      expect(await store.getAttempts('key:live')).toEqual({ subject: 'key:live', failures: 1, windowStart: NOW })
    })
  })

const dir = mkdtempSync(join(tmpdir(), 'ca-attempt-batching-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

suite('SQLite', async () => {
  const path = join(dir, `b-${++n}.db`)
  return { url: { engine: 'sqlite', path, url: `sqlite:${path}` }, cleanup: async () => undefined }
})

await describeWithPostgres('attempt counters under a burst on PostgreSQL', () => {
  suite('PostgreSQL', async () => {
    const pg: PostgresSchema = await withPostgresSchema()
    return { url: pg.database, cleanup: () => pg.drop() }
  })
})
