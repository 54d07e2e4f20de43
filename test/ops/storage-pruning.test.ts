/**
 * The pruning job (docs/security.md, "Storage bounds"): audit events older than AUDIT_RETENTION_DAYS and attempt
 * counters whose window has ended are deleted by the service itself, in small batches off the request path; the
 * issued event of a session that has not expired stays. A test clock moves time on.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEvent } from '../../core/index.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import { startStoragePruner } from '../../adapters/store/storage-pruner.js'
import type { Store } from '../../adapters/store/store.js'
import { addAttempt } from '../support/attempts.js'
import { rawRequest, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'
import { testClock } from '../support/doubles.js'

const DAY = 86_400
const T0 = 1_800_000_000

const wrongCode = (at: number, i: number): AuditEvent => ({
  type: 'failed', at, mode: 'AuthenticationCode', code: 'INVALIDACCESSTOKEN', keyPrefix: 'EE73C0', organisation: 'ps_dev', clientAddress: `10.0.${i >> 8}.${i & 255}`,
})
const until = async (what: () => Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('the pruning job', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-prune-'))
  let store: Store
  beforeAll(async () => {
    const path = join(dir, 'prune.db')
    store = await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` })
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('deletes a backlog in batches of at most batchSize, keeps what is recent and the ledger of live sessions', async () => {
    for (let i = 0; i < 1_000; i++) await store.record(wrongCode(T0 - 3 * DAY, i))
    await store.record({ type: 'issued', at: T0 - 3 * DAY, mode: 'AuthenticationCode', sessionId: 'long-lived', organisation: 'ps_dev', contactInformationId: 'C', accountsReceivableId: 'A', expiresAt: T0 + 60, clientAddress: '::1' })
    await store.record(wrongCode(T0 - 60, 0))
    for (let i = 0; i < 30; i++) await addAttempt(store, `address:expired-${i}`, T0 - 1000, 900)
    await addAttempt(store, 'address:live', T0 - 100, 900)

    const batches: number[] = []
    const counted: Store = Object.assign(Object.create(store) as Store, {
      pruneAuditEvents: async (before: number, now: number, limit: number) => {
        const n = await store.pruneAuditEvents(before, now, limit)
        batches.push(n)
        expect(n).toBeLessThanOrEqual(limit)
        return n
      },
    })
    const pruner = startStoragePruner(counted, { retentionDays: 2, lockoutWindowSeconds: 900, clock: testClock(T0), intervalMs: 10, batchSize: 64, pauseMs: 1 })
    try {
      await until(async () => (await store.listAuditEvents()).length === 2)
    } finally {
      await pruner.stop()
    }
    expect(batches.slice(0, 15)).toEqual(Array(15).fill(64))
    expect(batches.reduce((a, b) => a + b, 0)).toBe(1_000)
    const kept = (await store.listAuditEvents()).map((r) => r.event)
    expect(kept.map((e) => e.at)).toEqual([T0 - 3 * DAY, T0 - 60])
    expect(kept[0]).toMatchObject({ type: 'issued', sessionId: 'long-lived' })
    expect(await store.getAttempts('address:expired-0')).toBeUndefined()
    expect(await store.getAttempts('address:live')).toMatchObject({ failures: 1 })
  })

  it('stop() ends the job: nothing is deleted afterwards', async () => {
    const pruner = startStoragePruner(store, { retentionDays: 1, lockoutWindowSeconds: 900, clock: testClock(T0), intervalMs: 10 })
    await pruner.stop()
    await store.record(wrongCode(T0 - 5 * DAY, 1))
    await new Promise((r) => setTimeout(r, 100))
    expect((await store.listAuditEvents()).some((r) => r.event.at === T0 - 5 * DAY)).toBe(true)
  })
})

describe('the service prunes by itself (AUDIT_RETENTION_DAYS)', () => {
  const clock = testClock(T0)
  let svc: TestService
  let store: Store
  let path: string
  let dir: string
  /** Counted in the file itself: whatever the subjects are named. */
  const counters = () => {
    const raw = new BetterSqlite3(path, { readonly: true })
    try {
      return raw.prepare('select count(*) from attempt_counters').pluck().get()
    } finally {
      raw.close()
    }
  }
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'consumer-auth-prune-svc-'))
    path = join(dir, 'svc.db')
    store = await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` })
    svc = await startTestService({ 'audit-retention-days': '1' }, { store, clock, pruneIntervalMs: 20 })
  })
  afterAll(async () => {
    await svc?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('deletes the events and counters of two days ago, keeps today\'s', async () => {
    const post = (body: string) => rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { 'content-type': 'application/json', authorization: EXAMPLE_AUTHORIZATION }, body })
    expect((await post(EXAMPLE_BODY)).status).toBe(200)
    expect((await post('{"access_token_identifier":{"authentication_code":"wrong"}}')).status).toBe(401)
    expect((await store.listAuditEvents()).length).toBe(2)
    expect(counters()).toBe(1)
    clock.now = T0 + 2 * DAY
    expect((await post(EXAMPLE_BODY)).status).toBe(200)
    await until(async () => (await store.listAuditEvents()).length === 1)
    expect((await store.listAuditEvents())[0]!.event).toMatchObject({ type: 'issued', at: T0 + 2 * DAY })
    // The success claimed its key anew and gave the claim back: that row (0 failures, an ended window) is left for
    // the job too, which drops it on a later pass than the old rows'.
    await until(async () => counters() === 0)
    expect(counters()).toBe(0)
  })
})
