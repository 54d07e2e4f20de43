/**
 * How the PostgreSQL store's writes commit (adapters/store/sql/attempt-counters.ts, docs/performance.md, PostgreSQL):
 * the request path's claims and give-backs, each a transaction of its own, commit without waiting for the WAL flush,
 * so logins with one key do not queue one flush after another on its counter row; the setting is the statement's
 * transaction's only, so the audit rows that later use the same connections still commit durably, and a counter
 * write inside a caller's transaction leaves that transaction's commit as it was.
 */
import { afterEach, beforeEach, expect, test } from 'vitest'
import type pg from 'pg'
import { connect } from '../../adapters/store/sql/connect.js'
import { runMigrations } from '../../adapters/store/sql/migrations.js'
import { SqlStore } from '../../adapters/store/sql/sql-store.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'

const NOW = 1_700_000_000
const claimAt = (now: number) => ({ now, staleAtOrBefore: now - 900, limit: 100 })

interface Ran {
  readonly text: string
  readonly rows: ReadonlyArray<Record<string, unknown>>
  readonly client: pg.PoolClient
}

await describeWithPostgres('PostgreSQL: how the counter writes commit', () => {
  let schema: PostgresSchema
  let store: SqlStore
  let ran: Ran[]
  let clients: Set<pg.PoolClient>
  beforeEach(async () => {
    schema = await withPostgresSchema()
    const c = connect(schema.database)
    ran = []
    clients = new Set()
    // Every statement's text and the rows it returned, as the driver saw them, and every connection of the pool.
    c.native.engine === 'postgres' && c.native.pool.on('connect', (client) => {
      clients.add(client)
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      client.query = ((...args: unknown[]) => {
        const q = args[0] as { text?: string } | string
        const text = typeof q === 'string' ? q : (q.text ?? '')
        const result = query(...args)
        if (result instanceof Promise) void result.then((r: { rows?: Ran['rows'] }) => ran.push({ text, rows: r.rows ?? [], client }), () => undefined)
        return result
      }) as typeof client.query
    })
    await runMigrations(c.db, c.engine)
    store = new SqlStore(c.db, c.engine, { native: c.native })
  })
  afterEach(async () => {
    await store.close()
    await schema.drop()
  })

  const sessionSetting = async (client: pg.PoolClient) =>
    ((await client.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]!).synchronous_commit

  test('a burst of claims and give-backs commits without waiting for the flush; the connections keep flushing every other commit', async () => {
    const claims = await Promise.all(Array.from({ length: 50 }, () => store.claimAttempt('key:k', claimAt(NOW))))
    expect(claims.map((c) => c?.failures)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    await Promise.all(claims.map((c) => store.giveBackAttempt('key:k', c!.windowStart)))
    await store.record({ type: 'failed', at: NOW, mode: 'AuthenticationCode', code: 'INVALIDACCESSTOKEN', clientAddress: '127.0.0.1' })

    const counterWrites = ran.filter((r) => /^(insert into|update) "attempt_counters"/.test(r.text))
    expect(counterWrites.length).toBeGreaterThanOrEqual(2)
    // Each wrote the row and said, for its own transaction, that its commit need not wait for the flush.
    for (const w of counterWrites) {
      expect(w.rows.length).toBe(1)
      expect(w.rows[0]!['synchronous_commit']).toBe('off')
    }
    expect(await store.getAttempts('key:k')).toBeUndefined()
    // Not the session's setting: every connection (the audit row's included) still commits durably.
    expect(clients.size).toBeGreaterThan(0)
    for (const client of clients) expect(await sessionSetting(client)).toBe('on')
    expect(ran.filter((r) => r.text.startsWith('insert into "audit_events"')).every((r) => !r.text.includes('synchronous_commit'))).toBe(true)
  })

  test("in a caller's transaction a counter write leaves the transaction's commit as it was", async () => {
    let inside: string | undefined
    await store.transaction(async (tx) => {
      const claim = await tx.claimAttempt('key:t', claimAt(NOW))
      await tx.giveBackAttempt('key:t', claim!.windowStart)
      await tx.claimAttempt('key:t', claimAt(NOW))
      await tx.clearAttempts('key:t')
      // The connection that began the transaction: asked inside it.
      const begun = ran.filter((r) => r.text === 'begin').at(-1)
      expect(begun).toBeDefined()
      inside = await sessionSetting(begun!.client)
    })
    expect(inside).toBe('on')
    expect(ran.some((r) => r.text.includes('synchronous_commit') && !r.text.startsWith('show'))).toBe(false)
  })
})
