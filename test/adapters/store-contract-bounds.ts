/**
 * @module store-contract-bounds
 * The part of the store contract (store-contract.ts runs it for memory, SQLite and PostgreSQL) about bounded
 * storage: failures that authenticate nobody aggregated into one row per bucket, under real concurrency and across
 * instances; the pruning job's deletions; the write probe behind readiness.
 */
import { describe, expect, test } from 'vitest'
import type { AuditEvent } from '../../core/index.js'
import type { Store } from '../../adapters/store/store.js'
import { addAttempt } from '../support/attempts.js'

const NOW = 1_700_000_040 // the start of a minute
type Failed = Extract<AuditEvent, { type: 'failed' }>

const unknownKey = (i: number, extra: Partial<Failed> = {}): AuditEvent => ({
  type: 'failed', at: NOW + (i % 60), mode: 'AuthenticationCode', code: 'INVALIDAPPLICATIONKEY',
  keyPrefix: i.toString(16).padStart(6, '0').toUpperCase(), clientAddress: '203.0.113.9', ...extra,
})
const issued = (sessionId: string, at: number, expiresAt: number): AuditEvent => ({
  type: 'issued', at, mode: 'AuthenticationCode', sessionId, organisation: 'ps_dev', contactInformationId: 'CII',
  accountsReceivableId: 'ARI', expiresAt, clientAddress: '127.0.0.1',
})

export const storageBoundsContract = (
  sut: () => { readonly store: Store; readonly openAnother?: () => Promise<Store> },
  options: { severalInstances: boolean },
): void => {
  describe('storage bounds', () => {
    test('500 concurrent refusals of made-up keys from one address in one minute are one row counting 500', async () => {
      const { store } = sut()
      await Promise.all(Array.from({ length: 500 }, (_, i) => store.record(unknownKey(i))))
      const rows = await store.listAuditEvents()
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ count: 500, lastAt: NOW + 59, event: { type: 'failed', code: 'INVALIDAPPLICATIONKEY', clientAddress: '203.0.113.9' } })
      // Later events of the bucket go on counting in the same row.
      await store.record(unknownKey(7))
      expect((await store.listAuditEvents()).map((r) => r.count)).toEqual([501])
    })

    test('buckets are per minute, address, mode, code and known key; repeats of a lock-out count in their row', async () => {
      const { store } = sut()
      const locked: AuditEvent = { type: 'failed', at: NOW, mode: 'IdentifierPassCode', code: 'TOOMANYATTEMPTS', keyPrefix: 'EE73C0', organisation: 'ps_dev', clientAddress: '::1' }
      const events: AuditEvent[] = [
        unknownKey(1),
        unknownKey(2, { at: NOW + 60 }),
        unknownKey(3, { clientAddress: '203.0.113.10' }),
        unknownKey(4, { mode: 'IdentifierPassCode' }),
        locked,
        { ...locked, at: NOW + 30 },
        { ...locked, keyPrefix: 'AAAAAA' },
        { ...locked, organisation: 'other' },
        { ...locked, at: NOW + 5, keyPrefix: undefined, organisation: undefined, mode: 'IdentityJwt' },
      ]
      await Promise.all(events.map((e) => store.record(e)))
      const rows = await store.listAuditEvents()
      expect(rows.map((r) => r.count).sort()).toEqual([1, 1, 1, 1, 1, 1, 1, 2])
      expect(rows.find((r) => r.count === 2)).toMatchObject({ event: locked, lastAt: NOW + 30 })
    })

    test('issued sessions, lock-outs and failed checks of a credential keep a row each, even when identical', async () => {
      const { store } = sut()
      const wrongCode: AuditEvent = { type: 'failed', at: NOW, mode: 'AuthenticationCode', code: 'INVALIDACCESSTOKEN', keyPrefix: 'EE73C0', organisation: 'ps_dev', clientAddress: '::1' }
      const lockOut: AuditEvent = { type: 'locked_out', at: NOW, subject: { kind: 'address', id: '::1' }, clientAddress: '::1' }
      await Promise.all([
        ...Array.from({ length: 50 }, () => store.record(wrongCode)),
        ...Array.from({ length: 3 }, () => store.record(lockOut)),
        ...Array.from({ length: 50 }, (_, i) => store.record(issued(`S${i}`, NOW, NOW + 7200))),
      ])
      const rows = await store.listAuditEvents()
      expect(rows).toHaveLength(103)
      expect(rows.every((r) => r.count === 1 && r.lastAt === r.event.at)).toBe(true)
    })

    if (options.severalInstances) test('two instances counting one bucket at once share its row', async () => {
      const { store, openAnother } = sut()
      const second = await openAnother!()
      try {
        await Promise.all(Array.from({ length: 400 }, (_, i) => (i % 2 ? second : store).record(unknownKey(i))))
        const rows = await store.listAuditEvents()
        expect(rows.map((r) => r.count)).toEqual([400])
      } finally {
        await second.close()
      }
    })

    test('pruning deletes old rows oldest first in batches, never the issued event of a session still valid', async () => {
      const { store } = sut()
      const day = 86_400
      await store.record(issued('old-expired', NOW - 10 * day, NOW - 10 * day + 7200))
      await store.record(issued('old-but-valid', NOW - 10 * day, NOW + 3600))
      for (let i = 0; i < 5; i++) await store.record(unknownKey(i, { at: NOW - 9 * day + i * 60 }))
      await store.record({ type: 'locked_out', at: NOW - 8 * day, subject: { kind: 'address', id: '::1' }, clientAddress: '::1' })
      await store.record(issued('recent', NOW - 60, NOW + 7200))
      await store.record(unknownKey(9, { at: NOW - 1 }))
      const before = NOW - 7 * day
      expect(await store.pruneAuditEvents(before, NOW, 3)).toBe(3)
      const left = (await store.listAuditEvents()).map((r) => r.event)
      // The oldest went first: the expired session and the two oldest buckets.
      expect(left.some((e) => e.type === 'issued' && e.sessionId === 'old-expired')).toBe(false)
      expect(left.filter((e) => e.type === 'failed')).toHaveLength(4)
      expect(await store.pruneAuditEvents(before, NOW, 100)).toBe(4)
      expect(await store.pruneAuditEvents(before, NOW, 100)).toBe(0)
      const kept = await store.listAuditEvents()
      expect(kept.map((r) => (r.event.type === 'issued' ? r.event.sessionId : r.event.type))).toEqual(['old-but-valid', 'recent', 'failed'])
      // Once its session has expired, the old ledger row goes too.
      expect(await store.pruneAuditEvents(before, NOW + 3600, 100)).toBe(1)
      // Ids keep increasing after pruning, and a pruned bucket starts again in a new row.
      const lastId = Math.max(...(await store.listAuditEvents()).map((r) => r.id))
      await store.record(unknownKey(1, { at: NOW - 9 * day }))
      const added = await store.listAuditEvents(lastId)
      expect(added).toHaveLength(1)
      expect(added[0]).toMatchObject({ count: 1 })
    })

    test('pruning attempt counters deletes the expired windows only, at most `limit` at a time', async () => {
      const { store } = sut()
      const W = 900
      for (let i = 0; i < 5; i++) await addAttempt(store, `expired-${i}`, NOW - W - i, W)
      await addAttempt(store, 'live', NOW - W + 1, W)
      expect(await store.pruneAttemptCounters(NOW - W, 3)).toBe(3)
      expect(await store.pruneAttemptCounters(NOW - W, 100)).toBe(2)
      expect(await store.pruneAttemptCounters(NOW - W, 100)).toBe(0)
      expect(await store.getAttempts('live')).toEqual({ subject: 'live', failures: 1, windowStart: NOW - W + 1 })
      expect(await store.getAttempts('expired-0')).toBeUndefined()
    })

    test('the write probe resolves on a store that accepts writes', async () => {
      const { store } = sut()
      await expect(store.checkWritable()).resolves.toBeUndefined()
      await expect(Promise.all(Array.from({ length: 20 }, () => store.checkWritable()))).resolves.toHaveLength(20)
    })
  })
}
