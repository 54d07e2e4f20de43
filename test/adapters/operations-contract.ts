/**
 * @module operations-contract
 * The part of the store contract that the operator commands and the release route rely on (adapters/store/store.ts
 * `Operations`): a session's record and its release, a consumer's sessions, the attempt counters, pages of the
 * audit log with every filter. Run by store-contract.ts inside its own describe, on every store.
 */
import { describe, expect, test } from 'vitest'
import type { AuditEvent } from '../../core/index.js'
import type { Store } from '../../adapters/store/store.js'
import { addAttempt } from '../support/attempts.js'

type Issued = Extract<AuditEvent, { type: 'issued' }>

export interface OperationsFixture {
  readonly store: () => Store
  readonly now: number
  readonly seedAll: (s: Store) => Promise<void>
  readonly issued: (sessionId: string, extra?: Partial<Issued>) => AuditEvent
}

const released = (sessionId: string, at: number, accountsReceivableId = 'ARI-A'): AuditEvent => ({
  type: 'released', at, sessionId, organisation: 'ps_dev', accountsReceivableId, by: 'consumer', expiresAt: 1_700_007_200, clientAddress: '127.0.0.1',
})

export const operationsContract = ({ store, now: NOW, seedAll, issued }: OperationsFixture): void => {
  describe('sessions and release', () => {
    test("a session's record names its key and access token; a 'released' event marks it released; unknown: undefined", async () => {
      await seedAll(store())
      await store().record(issued('S1'))
      await store().record(issued('S2', { keyDigest: undefined, keyPrefix: undefined }))
      expect(await store().sessionRecord('S1')).toEqual({ organisation: 'ps_dev', accountsReceivableId: 'ARI-A', expiresAt: NOW + 7200, keyDigest: 'digest-key-a', accessTokenId: 'at-code-a', released: false })
      expect(await store().sessionRecord('S2')).toEqual({ organisation: 'ps_dev', accountsReceivableId: 'ARI-A', expiresAt: NOW + 7200, accessTokenId: 'at-code-a', released: false })
      expect(await store().sessionRecord('NEVER')).toBeUndefined()
      await store().record(released('S1', NOW + 5))
      await store().record(released('S1', NOW + 6))
      expect(await store().sessionRecord('S1')).toEqual({ organisation: 'ps_dev', accountsReceivableId: 'ARI-A', expiresAt: NOW + 7200, keyDigest: 'digest-key-a', accessTokenId: 'at-code-a', released: true })
      expect(await store().isRevoked('S1', NOW + 7)).toBe(true)
      expect(await store().isRevoked('S2', NOW + 7)).toBe(false)
      // A release of a session never issued here does not make it known.
      await store().record(released('GHOST', NOW + 8))
      expect(await store().sessionRecord('GHOST')).toBeUndefined()
    })

    test("a consumer's unexpired sessions, newest first, released ones marked; other consumers and expired ones left out", async () => {
      await seedAll(store())
      await store().record(issued('OLD', { at: NOW - 7200, expiresAt: NOW }))
      await store().record(issued('S1'))
      await store().record(issued('S2', { at: NOW + 10, expiresAt: NOW + 7210, mode: 'IdentifierPassCode' }))
      await store().record(issued('OTHER', { accountsReceivableId: 'ARI-A2', contactInformationId: 'CII-A2' }))
      await store().record(issued('ELSEWHERE', { organisation: 'other' }))
      await store().record(released('S1', NOW + 20))
      const sessions = await store().listSessions('ps_dev', 'ARI-A', NOW + 30)
      expect(sessions).toEqual([
        { sessionId: 'S2', issuedAt: NOW + 10, expiresAt: NOW + 7210, mode: 'IdentifierPassCode', organisation: 'ps_dev', accountsReceivableId: 'ARI-A', keyPrefix: 'EE73C0', released: false },
        { sessionId: 'S1', issuedAt: NOW, expiresAt: NOW + 7200, mode: 'AuthenticationCode', organisation: 'ps_dev', accountsReceivableId: 'ARI-A', keyPrefix: 'EE73C0', released: true },
      ])
      expect(await store().listSessions('ps_dev', 'ARI-A', NOW + 7205)).toEqual([sessions[0]])
      expect(await store().listSessions('ps_dev', 'NOBODY', NOW)).toEqual([])
    })
  })

  describe('release and pruning', () => {
    test("pruning keeps a live session's 'released' event with its 'issued' one, and drops both once it has expired", async () => {
      await seedAll(store())
      await store().record(issued('S1'))
      await store().record({ ...released('S1', NOW + 5), expiresAt: NOW + 7200 } as AuditEvent)
      // Everything is older than the cut-off, but the session lives until NOW + 7200.
      await store().pruneAuditEvents(NOW + 100, NOW + 10, 100)
      expect(await store().sessionRecord('S1')).toMatchObject({ released: true })
      expect(await store().isRevoked('S1', NOW + 11)).toBe(true)
      await store().pruneAuditEvents(NOW + 100, NOW + 7200, 100)
      expect(await store().sessionRecord('S1')).toBeUndefined()
    })
  })

  describe('attempt counters', () => {
    test('are listed, ordered by subject', async () => {
      expect(await store().listAttemptCounts()).toEqual([])
      await addAttempt(store(), 'key:b', NOW, 900)
      await addAttempt(store(), 'address:a', NOW + 1, 900)
      await addAttempt(store(), 'key:b', NOW + 2, 900)
      expect(await store().listAttemptCounts()).toEqual([
        { subject: 'address:a', failures: 1, windowStart: NOW + 1 },
        { subject: 'key:b', failures: 2, windowStart: NOW },
      ])
    })
  })

  describe('audit pages', () => {
    const events = (): AuditEvent[] => [
      issued('S1'),
      { type: 'failed', at: NOW + 1, mode: 'AuthenticationCode', code: 'INVALIDACCESSTOKEN', keyPrefix: 'FFFFFF', organisation: 'other', clientAddress: '::1' },
      { type: 'locked_out', at: NOW + 2, subject: { kind: 'address', id: '::1' }, clientAddress: '::1' },
      issued('S2', { at: NOW + 3, accountsReceivableId: 'ARI-A2', contactInformationId: 'CII-A2' }),
      released('S1', NOW + 4),
    ]

    test('newest first, every filter applied, paged by id', async () => {
      const all = events()
      for (const e of all) await store().record(e)
      const page = (q: Parameters<Store['queryAuditEvents']>[0]) => store().queryAuditEvents(q).then((es) => es.map((e) => e.event))
      const newestFirst = [...all].reverse()
      expect(await page({ limit: 10 })).toEqual(newestFirst)
      const first = await store().queryAuditEvents({ limit: 2 })
      expect(first.map((e) => e.event)).toEqual(newestFirst.slice(0, 2))
      expect(await page({ limit: 2, beforeId: first[1]!.id })).toEqual(newestFirst.slice(2, 4))
      expect(await page({ limit: 10, types: ['issued'] })).toEqual([all[3], all[0]])
      expect(await page({ limit: 10, types: [] })).toEqual([])
      expect(await page({ limit: 10, since: NOW + 2, until: NOW + 4 })).toEqual([all[3], all[2]])
      expect(await page({ limit: 10, organisation: 'other' })).toEqual([all[1]])
      expect(await page({ limit: 10, organisation: 'ps_dev', accountsReceivableId: 'ARI-A' })).toEqual([all[4], all[0]])
      expect(await page({ limit: 10, keyPrefix: 'EE73C0' })).toEqual([all[3], all[0]])
      expect(await page({ limit: 10, keyPrefix: 'NOPE' })).toEqual([])
    })
  })
}
