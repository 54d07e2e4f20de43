import { createHmac } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, describe, expect, test } from 'vitest'
import type { DatabaseUrl } from '../../composition/config.js'
import { migrateDatabase, openSqlStore } from '../../adapters/store/sql/open-store.js'
import { migrations } from '../../adapters/store/sql/migrations.js'
import { storeContract } from './store-contract.js'
import { provisionDigestedSecrets, secretColumnProblems, secretsConsumer, testDigest } from './sql-secrets.js'
import { EXAMPLE_CODE, EXAMPLE_KEY } from '../support/example.js'

const dir = mkdtempSync(join(tmpdir(), 'ca-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
const freshDatabase = (): DatabaseUrl & { engine: 'sqlite' } => {
  const path = join(dir, `store-${++n}.db`)
  return { engine: 'sqlite', path, url: `sqlite:${path}` }
}
const removeDatabase = (path: string) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
}

storeContract('SQLite', async () => {
  const db = freshDatabase()
  const store = await openSqlStore(db)
  return {
    store,
    openAnother: () => openSqlStore(db),
    cleanup: async () => {
      await store.close()
      removeDatabase(db.path)
    },
  }
})

describe('SQLite store', () => {
  test('creates the missing directory of its file, uses WAL and foreign keys, and migrates once', async () => {
    const path = join(dir, 'nested', 'deeper', 'consumer-auth.db')
    const db: DatabaseUrl = { engine: 'sqlite', path, url: `sqlite:${path}` }
    const store = await openSqlStore(db)
    await store.ping()
    await store.close()
    expect(existsSync(path)).toBe(true)
    const raw = new BetterSqlite3(path, { readonly: true })
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(raw.prepare('select name from schema_migrations').all()).toEqual(migrations.map((m) => ({ name: m.name })))
    } finally {
      raw.close()
    }
    expect(await migrateDatabase(db)).toEqual({ applied: [] })
  })

  test('migrateDatabase applies every migration to a new database, then nothing', async () => {
    const db = freshDatabase()
    expect(await migrateDatabase(db)).toEqual({ applied: migrations.map((m) => m.name) })
    expect(await migrateDatabase(db)).toEqual({ applied: [] })
    const store = await openSqlStore(db, { migrate: false })
    await store.ping()
    await store.close()
  })

  test('ping rejects on a database that was not migrated', async () => {
    const db = freshDatabase()
    const store = await openSqlStore(db, { migrate: false })
    await expect(store.ping()).rejects.toThrow()
    await store.close()
  })

  test('references are enforced, and a transaction failing on one writes nothing', async () => {
    const db = freshDatabase()
    const store = await openSqlStore(db)
    try {
      await expect(store.upsertUnit({ organisation: 'nobody', id: '1', name: 'x' })).rejects.toThrow()
      await store.upsertOrganisation({ id: 'o', name: 'O', consumerUser: 'u' })
      await expect(
        store.transaction(async (tx) => {
          await tx.upsertConsumer({ organisation: 'o', contactInformationId: 'c', accountsReceivableId: 'a' })
          await tx.upsertAccessToken({
            id: 't', organisation: 'o', consumer: { organisation: 'o', contactInformationId: 'c', accountsReceivableId: 'missing' },
            authenticationCodeDigest: 'd', state: 'EFFECTIVE',
          })
        }),
      ).rejects.toThrow()
      expect(await store.listConsumers()).toEqual([])
      expect(await store.listAccessTokens()).toEqual([])
    } finally {
      await store.close()
    }
  })

  test('the secret-column check flags columns that could hold a secret in clear', () => {
    expect(
      secretColumnProblems(['t.key', 't.pass_code', 't.authentication_code', 't.api_secret', 't.digest', 't.authentication_code_digest', 't.pass_code_hash', 't.prefix', 't.accounts_receivable_id']),
    ).toEqual(['t.key', 't.pass_code', 't.authentication_code', 't.api_secret'])
  })

  test('holds no clear-text secret: no column for one, and what provisioning writes leaves none in the file', async () => {
    const db = freshDatabase()
    const store = await openSqlStore(db)
    // Provisioning digests keys and codes and hashes pass codes before they reach the store; fakes stand in here.
    const clearPassCode = 'pass-4711-secret'
    const fakeHash = (s: string) => `scrypt$16384$8$1$salt$${createHmac('sha256', 'salt').update(s).digest('base64')}`
    await provisionDigestedSecrets(store)
    await store.upsertAccessToken({ id: 't2', organisation: 'ps_dev', consumer: secretsConsumer, identifier: 'maria', passCodeHash: fakeHash(clearPassCode), state: 'EFFECTIVE' })
    await store.close()

    const raw = new BetterSqlite3(db.path, { readonly: true })
    try {
      const columns = (raw.prepare("select m.name as tbl, p.name as col from sqlite_master m, pragma_table_info(m.name) p where m.type = 'table'").all() as { tbl: string; col: string }[])
      expect(secretColumnProblems(columns.map((c) => `${c.tbl}.${c.col}`))).toEqual([])
    } finally {
      raw.close()
    }
    const bytes = Buffer.concat(['', '-wal'].filter((s) => existsSync(db.path + s)).map((s) => readFileSync(db.path + s)))
    expect(bytes.includes(testDigest(EXAMPLE_KEY))).toBe(true) // the check can see what is there
    for (const secret of [EXAMPLE_KEY, EXAMPLE_CODE, clearPassCode]) expect(bytes.includes(secret)).toBe(false)
  })
})
