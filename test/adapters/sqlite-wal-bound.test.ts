/**
 * SQLite's WAL stays bounded under a write burst (adapters/store/sql/checkpointer.ts): without a checkpoint that empties
 * it, the log of a store that never stops writing only grows (a PASSIVE checkpoint never finds it idle). 75,000
 * audit rows, 500 in flight at a time, write about 45 MB; the WAL file is sampled throughout.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import type { AuditEvent } from '../../core/index.js'
import { JOURNAL_SIZE_LIMIT, WAL_TRUNCATE_BYTES } from '../../adapters/store/sql/checkpointer.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-wal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const issued = (sessionId: string): AuditEvent => ({
  type: 'issued', at: 1_800_000_000, mode: 'AuthenticationCode', sessionId, organisation: 'ps_dev', contactInformationId: 'CII'.repeat(10),
  accountsReceivableId: 'ARI'.repeat(10), keyPrefix: 'EE73C0', keyDigest: 'd'.repeat(64), accessTokenId: 'a'.repeat(32), expiresAt: 1_800_007_200, clientAddress: '::1',
})

test('the WAL file stays under a bound during and after a write burst', async () => {
  const path = join(dir, 'burst.db')
  const store = await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` })
  const walSize = () => {
    try {
      return statSync(`${path}-wal`).size
    } catch {
      return 0
    }
  }
  let largest = 0
  const sampler = setInterval(() => (largest = Math.max(largest, walSize())), 2)
  try {
    for (let round = 0; round < 150; round++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => store.record(issued(`${round}-${i}`))))
      largest = Math.max(largest, walSize())
    }
    const written = statSync(path).size + walSize()
    expect(written).toBeGreaterThan(30 * 1024 * 1024)
    // A TRUNCATE checkpoint runs once the log passes WAL_TRUNCATE_BYTES; one batch or a busy retry may come first.
    expect(largest).toBeLessThan(3 * WAL_TRUNCATE_BYTES)
    expect(largest).toBeLessThan(JOURNAL_SIZE_LIMIT)
    // Idle afterwards: the worker's checkpoint copies the rest and empties the file.
    await new Promise((r) => setTimeout(r, 1_500))
    expect(walSize()).toBeLessThanOrEqual(WAL_TRUNCATE_BYTES)
    expect((await store.listAuditEvents()).length).toBe(75_000)
  } finally {
    clearInterval(sampler)
    await store.close()
  }
}, 60_000)
