/**
 * The SQLite request path's read cache (adapters/store/sql/sqlite-read-cache.ts): rows of key, user, access-token and
 * attempt reads are kept only while nothing can have changed them. Every way they can change is tried after the
 * cache is warm: another connection's commit (as the CLI in another process makes), provisioning through the same
 * store (Kysely), a provisioning transaction, the request path's own attempt-counter writes. And it is shown to
 * cache: a change made behind its back (on its own connection, where nothing tells it) is not seen.
 *
 * Another connection's commit is noticed by the first cached read of each turn of the event loop (one
 * `PRAGMA data_version` per turn): `nextTurn()` stands for "a later request".
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { DatabaseUrl } from '../../composition/config.js'
import { connect } from '../../adapters/store/sql/connect.js'
import { runMigrations } from '../../adapters/store/sql/migrations.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import { SqlStore } from '../../adapters/store/sql/sql-store.js'
import { addAttempt } from '../support/attempts.js'
import type { Store } from '../../adapters/store/store.js'

const NOW = 1_700_000_000
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
const consumer = { organisation: 'o1', contactInformationId: 'cii', accountsReceivableId: 'ari' }

const seed = async (s: Store) => {
  await s.upsertOrganisation({ id: 'o1', name: 'O1', consumerUser: 'alice' })
  await s.upsertUnit({ organisation: 'o1', id: 'u1', name: 'u1' })
  await s.upsertUser({ organisation: 'o1', username: 'alice', defaultUnit: 'u1', units: ['u1'] })
  await s.upsertKey({ digest: 'key-1', prefix: 'PREFIX', organisation: 'o1', user: 'alice', classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: NOW })
  await s.upsertConsumer(consumer)
  await s.upsertAccessToken({ id: 't1', organisation: 'o1', consumer, authenticationCodeDigest: 'code-1', state: 'EFFECTIVE' })
}

describe('SQLite read cache', () => {
  let dir: string
  let url: DatabaseUrl
  let store: Store
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'consumer-auth-read-cache-'))
    const path = join(dir, 'db.sqlite')
    url = { engine: 'sqlite', path, url: `sqlite:${path}` }
    store = await openSqlStore(url)
    await seed(store)
  })
  afterEach(async () => {
    await store.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  /** Reads everything the cache keeps, twice, so that the second answers come from it. */
  const warm = async () => {
    for (let i = 0; i < 2; i++) {
      await store.findKeyWithUser!('key-1')
      await store.findKeyByDigest('key-1')
      await store.findUser('o1', 'alice')
      await store.findOrganisation('o1')
      await store.findByAuthenticationCode('code-1', 'o1')
      await store.findByAuthenticationCode('code-1')
      await store.findAccessToken('t1')
      await store.getAttempts('key:key-1')
    }
  }

  test('caches: a change nothing announces (made on its own connection, behind the store) is not seen', async () => {
    // The same file opened by a connection that is not the store's: its commits change data_version for the store.
    // To show the cache holds rows, change a row through the store's own native connection instead.
    const { db: kysely, native } = connect(url)
    await runMigrations(kysely, 'sqlite')
    const own = new SqlStore(kysely, 'sqlite', { native })
    try {
      await seed(own)
      await own.findKeyWithUser!('key-1')
      if (native.engine !== 'sqlite') throw new Error('sqlite expected')
      native.db.prepare(`update web_api_keys set status = 'REVOKED' where digest = 'key-1'`).run()
      expect((await own.findKeyWithUser!('key-1'))?.key.status).toBe('ACTIVE')
      // Through the store, the same change is seen at once.
      await own.setKeyStatus('key-1', 'REVOKED')
      expect((await own.findKeyWithUser!('key-1'))?.key.status).toBe('REVOKED')
    } finally {
      await own.close()
    }
  })

  test("a session's record is kept once found; its release through the store is seen at once, and another connection's by the next read", async () => {
    const sessionId = 'FEDCBA9876543210FEDCBA9876543210'
    const issued = {
      type: 'issued', at: NOW, mode: 'AuthenticationCode', sessionId, organisation: 'o1', contactInformationId: 'cii',
      accountsReceivableId: 'ari', keyDigest: 'key-1', accessTokenId: 't1', expiresAt: NOW + 7200, clientAddress: '127.0.0.1',
    } as const
    const released = { type: 'released', at: NOW + 1, sessionId, organisation: 'o1', accountsReceivableId: 'ari', by: 'consumer', expiresAt: NOW + 7200 } as const
    const { db: kysely, native } = connect(url)
    await runMigrations(kysely, 'sqlite')
    const own = new SqlStore(kysely, 'sqlite', { native })
    if (native.engine !== 'sqlite') throw new Error('sqlite expected')
    const releasedBehindTheStore = () =>
      native.db.prepare(`insert into audit_events (type, at, session_id, expires_at, payload, last_at) values ('released', ?, ?, ?, ?, ?)`)
        .run(NOW + 1, sessionId, NOW + 7200, JSON.stringify(released), NOW + 1)
    try {
      // Not found is not kept: the session's 'issued' row, appended later by this connection, is read at once.
      expect(await own.sessionRecord(sessionId)).toBeUndefined()
      await own.record(issued)
      expect((await own.sessionRecord(sessionId))?.released).toBe(false)
      // Found is kept: a 'released' row written behind the store (its own connection, where nothing tells it) is not seen...
      releasedBehindTheStore()
      expect((await own.sessionRecord(sessionId))?.released).toBe(false)
      // ...while a release recorded through the store is seen by the very next read.
      await own.record(released)
      expect((await own.sessionRecord(sessionId))?.released).toBe(true)
    } finally {
      await own.close()
    }
    // Another process's release (the CLI, a second instance) of another session: seen by the next turn's read.
    const second = { ...issued, sessionId: '00112233445566778899AABBCCDDEEFF' }
    await store.record(second)
    expect(await store.isRevoked(second.sessionId, NOW)).toBe(false)
    expect((await store.sessionRecord(second.sessionId))?.released).toBe(false)
    const other = new Database(join(dir, 'db.sqlite'))
    try {
      other.prepare(`insert into audit_events (type, at, session_id, expires_at, payload, last_at) values ('released', ?, ?, ?, ?, ?)`)
        .run(NOW + 1, second.sessionId, NOW + 7200, JSON.stringify({ ...released, sessionId: second.sessionId }), NOW + 1)
    } finally {
      other.close()
    }
    await nextTurn()
    expect((await store.sessionRecord(second.sessionId))?.released).toBe(true)
  })

  test("another connection's commit (the CLI in another process) is seen by the next read", async () => {
    await warm()
    const other = new Database(join(dir, 'db.sqlite'))
    try {
      other.prepare(`update web_api_keys set status = 'REVOKED' where digest = 'key-1'`).run()
      await nextTurn()
      expect((await store.findKeyWithUser!('key-1'))?.key.status).toBe('REVOKED')
      expect((await store.findKeyByDigest('key-1'))?.status).toBe('REVOKED')
      other.prepare(`update access_tokens set state = 'SUSPENDED' where id = 't1'`).run()
      await nextTurn()
      expect((await store.findByAuthenticationCode('code-1', 'o1'))[0]?.state).toBe('SUSPENDED')
      expect((await store.findAccessToken('t1'))?.state).toBe('SUSPENDED')
      other.prepare(`delete from user_units`).run()
      await nextTurn()
      expect((await store.findUser('o1', 'alice'))?.units).toEqual([])
      other.prepare(`insert into attempt_counters (subject, failures, window_start) values ('key:key-1', 7, ${NOW})`).run()
      await nextTurn()
      expect(await store.getAttempts('key:key-1')).toEqual({ subject: 'key:key-1', failures: 7, windowStart: NOW })
    } finally {
      other.close()
    }
  })

  test('stays bounded: a flood of keys nobody holds (all misses, each remembered) keeps at most 10 000 answers', async () => {
    const cache = (store as unknown as { x: { size: number } }).x
    await Promise.all(Array.from({ length: 25_000 }, (_, i) => store.findKeyWithUser!(`no-such-key-${i}`)))
    expect(cache.size).toBeGreaterThan(0)
    expect(cache.size).toBeLessThanOrEqual(10_000)
    // And it still answers from the store after starting again.
    expect((await store.findKeyWithUser!('key-1'))?.key.status).toBe('ACTIVE')
  })

  test('provisioning through the store is seen by the next read', async () => {
    await warm()
    expect(await store.setKeyStatus('key-1', 'REVOKED')).toBe(true)
    expect((await store.findKeyWithUser!('key-1'))?.key.status).toBe('REVOKED')
    expect(await store.setAccessTokenState('t1', 'SUSPENDED')).toBe(true)
    expect((await store.findByAuthenticationCode('code-1'))[0]?.state).toBe('SUSPENDED')
    await store.upsertUser({ organisation: 'o1', username: 'alice', defaultUnit: 'u1', units: [] })
    expect((await store.findUser('o1', 'alice'))?.units).toEqual([])
    await store.upsertOrganisation({ id: 'o1', name: 'Renamed', consumerUser: 'alice' })
    expect((await store.findOrganisation('o1'))?.name).toBe('Renamed')
  })

  test('a provisioning transaction is seen once it commits, and not at all when it rolls back', async () => {
    await warm()
    await expect(
      store.transaction(async (tx) => {
        await tx.setKeyStatus('key-1', 'REVOKED')
        throw new Error('changed my mind')
      }),
    ).rejects.toThrow('changed my mind')
    expect((await store.findKeyWithUser!('key-1'))?.key.status).toBe('ACTIVE')
    await store.transaction(async (tx) => {
      await tx.setKeyStatus('key-1', 'REVOKED')
    })
    expect((await store.findKeyWithUser!('key-1'))?.key.status).toBe('REVOKED')
  })

  test("the request path's own attempt counts are read back at once, concurrent ones included", async () => {
    await warm()
    const counts = await Promise.all(Array.from({ length: 5 }, () => addAttempt(store, 'key:key-1', NOW, 900)))
    expect(counts.map((c) => c.failures)).toEqual([1, 2, 3, 4, 5])
    expect((await store.getAttempts('key:key-1'))?.failures).toBe(5)
    await store.clearAttempts('key:key-1')
    expect(await store.getAttempts('key:key-1')).toBeUndefined()
    // A read and a write of the same moment: the read answers before or after the write, never a stale count after.
    const [, after] = await Promise.all([addAttempt(store, 'key:key-1', NOW, 900), store.getAttempts('key:key-1')])
    expect([undefined, 1]).toContain(after?.failures)
    expect((await store.getAttempts('key:key-1'))?.failures).toBe(1)
  })

  test('audit appends keep the cached rows and are read by the revocation check at once', async () => {
    await warm()
    const sessionId = '0123456789AB0123456789ABCDEF0123'
    expect(await store.isRevoked(sessionId, NOW)).toBe(true)
    await store.record({
      type: 'issued', at: NOW, mode: 'AuthenticationCode', sessionId, organisation: 'o1', contactInformationId: 'cii',
      accountsReceivableId: 'ari', keyDigest: 'key-1', accessTokenId: 't1', expiresAt: NOW + 7200, clientAddress: '127.0.0.1',
    })
    expect(await store.isRevoked(sessionId, NOW)).toBe(false)
    const other = new Database(join(dir, 'db.sqlite'))
    try {
      other.prepare(`update web_api_keys set status = 'REVOKED' where digest = 'key-1'`).run()
    } finally {
      other.close()
    }
    await nextTurn()
    expect(await store.isRevoked(sessionId, NOW)).toBe(true)
  })
})
