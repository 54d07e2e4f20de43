/**
 * The SQL store's request path (adapters/store/sql/executor.ts, the SQLite and PostgreSQL executors) on both engines:
 * prepared statements straight on the driver, reads shared by concurrent callers (PostgreSQL), and group-committed writes. Concurrency must change
 * nothing a caller can see: each concurrent read gets its own answer, a write's promise resolves only once it is
 * committed, a failing write fails alone, writes never join (or roll back with) a provisioning transaction, and
 * close() writes what is queued.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addAttempt } from '../support/attempts.js'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { DatabaseUrl } from '../../composition/config.js'
import type { AuditEvent, User } from '../../core/index.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import type { Store } from '../../adapters/store/store.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'

const NOW = 1_700_000_000
const orgs = ['o1', 'o2', 'o3']
const usersOf = (o: string): User[] => [
  { organisation: o, username: 'alice', defaultUnit: 'u1', units: ['u2', 'u1'] },
  { organisation: o, username: 'bob', units: ['u1'] },
]
const event = (i: number): AuditEvent => ({
  type: 'issued', at: NOW + i, mode: 'AuthenticationCode', sessionId: `S${String(i).padStart(31, '0')}`, organisation: 'o1',
  contactInformationId: 'C', accountsReceivableId: 'A', expiresAt: NOW + i + 7200, clientAddress: '127.0.0.1',
})

const seed = async (s: Store) => {
  for (const o of orgs) {
    await s.upsertOrganisation({ id: o, name: o.toUpperCase(), consumerUser: 'alice' })
    for (const u of ['u1', 'u2']) await s.upsertUnit({ organisation: o, id: u, name: u })
    for (const u of usersOf(o)) await s.upsertUser(u)
    await s.upsertKey({
      digest: `key-${o}`, prefix: 'PREFIX', organisation: o, user: 'alice', classification: 'CONSUMER_APPLICATION_KEY',
      status: 'ACTIVE', createdAt: NOW,
    })
    await s.upsertConsumer({ organisation: o, contactInformationId: `cii-${o}`, accountsReceivableId: `ari-${o}` })
    const consumer = { organisation: o, contactInformationId: `cii-${o}`, accountsReceivableId: `ari-${o}` }
    // The same code in every organisation, and one code of its own.
    await s.upsertAccessToken({ id: `t-shared-${o}`, organisation: o, consumer, authenticationCodeDigest: 'code-shared', state: 'EFFECTIVE' })
    await s.upsertAccessToken({ id: `t-own-${o}`, organisation: o, consumer, authenticationCodeDigest: `code-${o}`, state: 'EFFECTIVE' })
  }
}

const hotPathSuite = (name: string, open: () => Promise<{ store: Store; reopen: () => Promise<Store>; cleanup: () => Promise<void> }>) =>
  describe(`SQL store request path: ${name}`, () => {
    let store: Store
    let reopen: () => Promise<Store>
    let cleanup: () => Promise<void>
    beforeEach(async () => {
      ;({ store, reopen, cleanup } = await open())
      await seed(store)
    })
    afterEach(async () => {
      await store.close().catch(() => undefined)
      await cleanup()
    })

    test('concurrent reads of different rows each get their own answer, misses included', async () => {
      const asks: Array<Promise<unknown[]>> = orgs.flatMap((o): Array<Promise<unknown[]>> => [
        store.findKeyByDigest(`key-${o}`).then((k) => ['key', o, k?.organisation ?? null]),
        store.findOrganisation(o).then((r) => ['org', o, r?.name ?? null]),
        store.findUser(o, 'alice').then((u) => ['alice', o, u ?? null]),
        store.findUser(o, 'bob').then((u) => ['bob', o, u ?? null]),
        store.findByAuthenticationCode(`code-${o}`, o).then((ts) => ['own', o, ts.map((t) => t.id)]),
        store.findByAuthenticationCode(`code-${o}`, 'o1').then((ts) => ['own-in-o1', o, ts.map((t) => t.id)]),
        store.findAccessToken(`t-own-${o}`).then((t) => ['by-id', o, t?.consumer.contactInformationId ?? null]),
        store.getAttempts(`subject-${o}`).then((a) => ['attempts', o, a ?? null]),
      ])
      asks.push(store.findKeyByDigest('no-such-key').then((k) => ['key', 'none', k ?? null]))
      asks.push(store.findUser('o1', 'nobody').then((u) => ['alice', 'none', u ?? null]))
      asks.push(store.findByAuthenticationCode('code-shared').then((ts) => ['shared', '*', ts.map((t) => t.id)]))
      const answers = await Promise.all(asks)
      for (const o of orgs) {
        const [alice, bob] = usersOf(o)
        expect(answers).toContainEqual(['key', o, o])
        expect(answers).toContainEqual(['org', o, o.toUpperCase()])
        expect(answers).toContainEqual(['alice', o, alice])
        expect(answers).toContainEqual(['bob', o, bob])
        expect(answers).toContainEqual(['own', o, [`t-own-${o}`]])
        expect(answers).toContainEqual(['own-in-o1', o, o === 'o1' ? ['t-own-o1'] : []])
        expect(answers).toContainEqual(['by-id', o, `cii-${o}`])
        expect(answers).toContainEqual(['attempts', o, null])
      }
      expect(answers).toContainEqual(['key', 'none', null])
      expect(answers).toContainEqual(['alice', 'none', null])
      expect(answers).toContainEqual(['shared', '*', ['t-shared-o1', 't-shared-o2', 't-shared-o3']])
    })

    test("concurrent questions about sessions' records each get their own answer (one batched read on PostgreSQL)", async () => {
      const issued = Array.from({ length: 60 }, (_, i) => event(i))
      for (const e of issued) await store.record(e)
      const releasedIds = new Set(issued.filter((_, i) => i % 3 === 0).map((e) => (e as { sessionId: string }).sessionId))
      for (const sessionId of releasedIds) {
        await store.record({ type: 'released', at: NOW + 100, sessionId, organisation: 'o1', accountsReceivableId: 'A', by: 'consumer', expiresAt: NOW + 7300 })
      }
      const ids = [...issued.map((e) => (e as { sessionId: string }).sessionId), 'S-never-issued']
      const records = await Promise.all([...ids, ...ids].map((id) => store.sessionRecord(id)))
      records.forEach((r, n) => {
        const id = ids[n % ids.length]!
        if (id === 'S-never-issued') return expect(r).toBeUndefined()
        expect(r).toMatchObject({ organisation: 'o1', accountsReceivableId: 'A', released: releasedIds.has(id) })
      })
    })

    test('a key is read with its user and the units in their order, in one look-up, concurrently too', async () => {
      await store.upsertKey({
        digest: 'key-bob', prefix: 'PREFIX', organisation: 'o2', user: 'bob', classification: 'CONSUMER_APPLICATION_KEY',
        status: 'REVOKED', createdAt: NOW,
      })
      const [k1, k3, bob, none] = await Promise.all([
        store.findKeyWithUser!('key-o1'),
        store.findKeyWithUser!('key-o3'),
        store.findKeyWithUser!('key-bob'),
        store.findKeyWithUser!('no-such-key'),
      ])
      expect(k1).toEqual({ key: await store.findKeyByDigest('key-o1'), user: usersOf('o1')[0] })
      expect(k3).toEqual({ key: await store.findKeyByDigest('key-o3'), user: usersOf('o3')[0] })
      expect(bob).toEqual({ key: await store.findKeyByDigest('key-bob'), user: usersOf('o2')[1] })
      expect(bob?.key.status).toBe('REVOKED')
      expect(none).toBeUndefined()
    })

    test('concurrent callers of the same read get equal answers', async () => {
      const users = await Promise.all(Array.from({ length: 20 }, () => store.findUser('o2', 'alice')))
      for (const u of users) expect(u).toEqual(usersOf('o2')[0])
    })

    test("a key revoked by another connection is seen by the next request's read", async () => {
      expect((await store.findKeyByDigest('key-o1'))?.status).toBe('ACTIVE')
      const other = await reopen()
      try {
        expect(await other.setKeyStatus('key-o1', 'REVOKED')).toBe(true)
      } finally {
        await other.close()
      }
      // A later request is a later turn of the event loop: SQLite's cached rows are checked against data_version
      // once per turn (sqlite-read-cache.test.ts); PostgreSQL reads every time.
      await new Promise((resolve) => setImmediate(resolve))
      expect((await store.findKeyByDigest('key-o1'))?.status).toBe('REVOKED')
    })

    test('concurrent writes are all committed, in the order they were made, by the time each promise resolves', async () => {
      const other = await reopen()
      try {
        const seen: number[] = []
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.record(event(i)).then(async () => {
              // Committed: another connection sees it (an unknown session would count as revoked).
              expect(await other.isRevoked((event(i) as { sessionId: string }).sessionId, NOW)).toBe(false)
              seen.push(i)
            }),
          ),
        )
        expect(seen).toHaveLength(40)
      } finally {
        await other.close()
      }
      const events = (await store.listAuditEvents()).map((e) => e.event)
      expect(events).toEqual(Array.from({ length: 40 }, (_, i) => event(i)))
    })

    test('concurrent failures on one subject all count, and one failing write does not fail the others', async () => {
      const bad = store.record({ ...event(99), type: null } as unknown as AuditEvent)
      const counts = Promise.all(Array.from({ length: 10 }, () => addAttempt(store, 's', NOW, 900)))
      const good = store.record(event(1))
      await expect(bad).rejects.toThrow()
      expect((await counts).map((c) => c.failures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      await good
      expect((await store.listAuditEvents()).map((e) => e.event)).toEqual([event(1)])
      await store.clearAttempts('s')
      expect(await store.getAttempts('s')).toBeUndefined()
    })

    test('a write made while a provisioning transaction is open is not undone with it', async () => {
      let written: Promise<void> | undefined
      await expect(
        store.transaction(async (tx) => {
          await tx.upsertOrganisation({ id: 'gone', name: 'Gone', consumerUser: 'x' })
          written = store.record(event(7))
          await new Promise((r) => setTimeout(r, 20))
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      await written
      expect(await store.findOrganisation('gone')).toBeUndefined()
      expect((await store.listAuditEvents()).map((e) => e.event)).toEqual([event(7)])
    })

    test('close() writes what is still queued', async () => {
      const pending = [store.record(event(1)), store.record(event(2))]
      await store.close()
      await Promise.all(pending)
      store = await reopen()
      expect((await store.listAuditEvents()).map((e) => e.event)).toEqual([event(1), event(2)])
    })
  })

const dir = mkdtempSync(join(tmpdir(), 'ca-hot-path-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

hotPathSuite('SQLite', async () => {
  const path = join(dir, `hot-${++n}.db`)
  const db: DatabaseUrl = { engine: 'sqlite', path, url: `sqlite:${path}` }
  return {
    store: await openSqlStore(db),
    reopen: () => openSqlStore(db),
    cleanup: async () => {
      for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true })
    },
  }
})

describe('SQLite WAL checkpoints', () => {
  test('run off the event loop while the store is open, and the WAL is folded in and removed when it closes', async () => {
    const path = join(dir, `checkpoint-${++n}.db`)
    const store = await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` })
    try {
      const before = statSync(path).size
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.record(event(i))))
      // The store's own connection does not checkpoint (its automatic checkpoint is off); the worker does.
      const deadline = Date.now() + 5_000
      while (statSync(path).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(statSync(path).size).toBeGreaterThan(before)
      expect((await store.listAuditEvents()).length).toBe(300)
    } finally {
      await store.close()
    }
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0)
    const again = await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` })
    try {
      expect((await again.listAuditEvents()).length).toBe(300)
    } finally {
      await again.close()
    }
  })
})

await describeWithPostgres('SQL store request path on PostgreSQL', () => {
  let pg: PostgresSchema
  hotPathSuite('PostgreSQL', async () => {
    pg = await withPostgresSchema()
    const store = await openSqlStore(pg.database)
    return { store, reopen: () => openSqlStore(pg.database), cleanup: async () => pg.drop() }
  })
})
