/**
 * The group-committed audit writes of the PostgreSQL hot path (adapters/store/sql/postgres-executor.ts) under a partition: a row
 * queued behind a batch whose connection went silent fails with that batch, within one query timeout; it does not
 * wait for a batch of its own as well (which doubled the time to a 503, up to the client's patience).
 */
import { expect, test } from 'vitest'
import type { AuditEvent } from '../../core/index.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import { describeWithPostgres, postgresTestUrl, withPostgresSchema } from '../support/postgres.js'
import { startTcpProxy } from '../support/tcp-proxy.js'

const QUERY_TIMEOUT_MS = 600
const CONNECT_TIMEOUT_MS = 400

await describeWithPostgres('PostgreSQL store: audit writes under a partition', () => {
  test('a row queued behind a batch that meets a partition fails with it, within one query timeout; then writes work again', async () => {
    const pg = await withPostgresSchema()
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(postgresTestUrl).port || 5432) })
    try {
      await (await openSqlStore(pg.database)).close()
      const url = new URL(pg.url)
      url.hostname = '127.0.0.1'
      url.port = String(proxy.port)
      const store = await openSqlStore(
        { engine: 'postgres', url: url.toString() },
        { migrate: false, pool: { query_timeout: QUERY_TIMEOUT_MS, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, statement_timeout: 0 }, onConnectionError: () => undefined },
      )
      try {
        // Idle connections in the pool, which the partition leaves open and silent.
        await Promise.all(['a', 'b', 'c'].map((d) => store.findKeyByDigest(d)))
        const event: AuditEvent = { type: 'failed', at: 1, mode: 'AuthenticationCode', code: 'INVALIDACCESSTOKEN', clientAddress: '127.0.0.1' }
        const timed = (p: Promise<unknown>) => {
          const started = performance.now()
          return p.then(() => 'written', (e: Error) => e.message).then((outcome) => ({ outcome, ms: performance.now() - started, at: performance.now() }))
        }
        await proxy.cut('partition')
        const first = timed(store.record(event))
        await new Promise((r) => setTimeout(r, 100))
        // Queued behind the first one's batch, still in flight.
        const second = timed(store.record(event))
        const [a, b] = await Promise.all([first, second])
        expect(a.outcome).toBe('Query read timeout')
        expect(b.outcome).toBe('Query read timeout')
        expect(a.ms).toBeLessThan(QUERY_TIMEOUT_MS + 500)
        // Failed with the batch ahead of it, not one query timeout later in a batch of its own.
        expect(Math.abs(b.at - a.at)).toBeLessThan(QUERY_TIMEOUT_MS / 2)
        expect(b.ms).toBeLessThan(QUERY_TIMEOUT_MS + 500)

        // Restored: the connections the partition silenced are gone (the first write may still meet one), then writes work.
        await proxy.restore()
        let written = false
        for (let i = 0; i < 20 && !written; i++) {
          written = await store.record(event).then(() => true, () => false)
          if (!written) await new Promise((r) => setTimeout(r, 50))
        }
        expect(written).toBe(true)
        expect((await store.listAuditEvents()).length).toBe(1)
      } finally {
        await store.close()
      }
    } finally {
      await proxy.close()
      await pg.drop()
    }
  }, 20_000)
})
