/**
 * @module store-contract
 * The one contract every Store implementation passes (memory, SQLite, PostgreSQL): every method of
 * adapters/store/store.ts and every state of SPEC 8. Lists are compared without regard to order (the interface promises
 * none); audit events are compared in order.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import fc from 'fast-check'
import {
  afterClaim, afterGiveBack, isAccessTokenUsable, type AccessToken, type AuditEvent, type Consumer, type IdentityLink, type IdentityProvider,
  type Organisation, type Unit, type User,
} from '../../core/index.js'
import type { AttemptCount, Store, StoredKey } from '../../adapters/store/store.js'
import { addAttempt } from '../support/attempts.js'
import { operationsContract } from './operations-contract.js'
import { storageBoundsContract } from './store-contract-bounds.js'

export interface StoreUnderTest {
  readonly store: Store
  /** Closes the store and removes what it created. */
  cleanup(): Promise<void>
  /** Opens another instance on the same database (stores shared by several instances); closed by the contract. */
  openAnother?(): Promise<Store>
}

// -- a small world ------------------------------------------------------------------------------------------------

const NOW = 1_700_000_000
/** Beyond 2^31: times must survive as JS numbers (BIGINT in PostgreSQL). */
const FAR = 4_102_444_800

const orgA: Organisation = { id: 'ps_dev', name: 'PS Dev', consumerUser: 'maytemplate' }
const orgB: Organisation = { id: 'other', name: 'Other', consumerUser: 'consumer' }
const unitsOf = (o: string): Unit[] => [
  { organisation: o, id: '1', name: 'Head office' },
  { organisation: o, id: '2', name: 'Branch' },
]
const userA: User = { organisation: orgA.id, username: 'maytemplate', defaultUnit: '1', units: ['2', '1'] }
const userB: User = { organisation: orgB.id, username: 'consumer', defaultUnit: '1', units: ['1'] }
/** Same username in the other organisation: a different user. */
const userBSameName: User = { organisation: orgB.id, username: 'maytemplate', units: [] }

const keyA: StoredKey = {
  digest: 'digest-key-a', prefix: 'EE73C0', organisation: orgA.id, user: userA.username,
  classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: NOW,
}
const consumerA: Consumer = { organisation: orgA.id, contactInformationId: 'CII-A', accountsReceivableId: 'ARI-A' }
const consumerA2: Consumer = { organisation: orgA.id, contactInformationId: 'CII-A2', accountsReceivableId: 'ARI-A2' }
const consumerB: Consumer = { organisation: orgB.id, contactInformationId: 'CII-B', accountsReceivableId: 'ARI-B' }

const codeToken: AccessToken = {
  id: 'at-code-a', organisation: orgA.id, consumer: consumerA, authenticationCodeDigest: 'digest-code-1', state: 'EFFECTIVE',
}
const identifierToken: AccessToken = {
  id: 'at-ident-a', organisation: orgA.id, consumer: consumerA, identifier: 'maria', passCodeHash: 'scrypt$fake$hash',
  state: 'EFFECTIVE', validFrom: NOW - 100, validTo: FAR,
}
/** The same code digest in another organisation. */
const codeTokenB: AccessToken = {
  id: 'at-code-b', organisation: orgB.id, consumer: consumerB, authenticationCodeDigest: 'digest-code-1', state: 'EFFECTIVE',
}

const provider: IdentityProvider = {
  issuer: 'https://id.example.com', audience: 'crm',
  jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] },
}
const link: IdentityLink = { issuer: provider.issuer, subject: 'u-42', organisation: orgA.id, accountsReceivableId: consumerA.accountsReceivableId }

/** Parents before children: SQL stores enforce references. */
const seedDirectory = async (s: Store) => {
  await s.upsertOrganisation(orgA)
  await s.upsertOrganisation(orgB)
  for (const u of [...unitsOf(orgA.id), ...unitsOf(orgB.id)]) await s.upsertUnit(u)
  await s.upsertUser(userA)
  await s.upsertUser(userB)
}
const seedConsumers = async (s: Store) => {
  await seedDirectory(s)
  await s.upsertConsumer(consumerA)
  await s.upsertConsumer(consumerA2)
  await s.upsertConsumer(consumerB)
}
const seedAll = async (s: Store) => {
  await seedConsumers(s)
  await s.upsertKey(keyA)
  await s.upsertAccessToken(codeToken)
  await s.upsertAccessToken(identifierToken)
  await s.upsertAccessToken(codeTokenB)
  await s.upsertIdentityProvider(provider)
  await s.upsertIdentityLink(link)
}

const issued = (sessionId: string, extra: Partial<Extract<AuditEvent, { type: 'issued' }>> = {}): AuditEvent => ({
  type: 'issued', at: NOW, mode: 'AuthenticationCode', sessionId, organisation: orgA.id,
  contactInformationId: consumerA.contactInformationId, accountsReceivableId: consumerA.accountsReceivableId,
  keyPrefix: keyA.prefix, keyDigest: keyA.digest, accessTokenId: codeToken.id, expiresAt: NOW + 7200, clientAddress: '127.0.0.1',
  ...extra,
})
const failed: AuditEvent = {
  type: 'failed', at: NOW + 1, mode: 'IdentifierPassCode', code: 'INVALIDACCESSTOKEN', keyPrefix: keyA.prefix, organisation: orgA.id,
  clientAddress: '::1',
}
const lockedOut: AuditEvent = { type: 'locked_out', at: NOW + 2, subject: { kind: 'identifier', id: 'ps_dev:maria' }, clientAddress: '::1' }

const byJson = <T>(xs: ReadonlyArray<T>): T[] => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
const sameItems = <T>(actual: ReadonlyArray<T>, expected: ReadonlyArray<T>) => expect(byJson(actual)).toEqual(byJson(expected))

// -- the contract -------------------------------------------------------------------------------------------------

/** `severalInstances`: the store can be opened twice on one database (SQL), so sharing is tested too. */
export const storeContract = (name: string, makeStore: () => Promise<StoreUnderTest>, options: { severalInstances: boolean } = { severalInstances: true }): void => {
  describe(`Store contract: ${name}`, () => {
    let sut: StoreUnderTest
    let store: Store
    const others: Store[] = []

    beforeEach(async () => {
      sut = await makeStore()
      store = sut.store
    })
    afterEach(async () => {
      for (const o of others.splice(0)) await o.close()
      await sut.cleanup()
    })

    describe('directory', () => {
      test('an organisation is found by id once upserted; unknown ids answer undefined', async () => {
        expect(await store.findOrganisation(orgA.id)).toBeUndefined()
        await store.upsertOrganisation(orgA)
        expect(await store.findOrganisation(orgA.id)).toEqual(orgA)
        expect(await store.findOrganisation('PS_DEV')).toBeUndefined()
      })

      test('upserting an organisation twice keeps one row with the second values', async () => {
        await store.upsertOrganisation(orgA)
        await store.upsertOrganisation({ ...orgA, name: 'Renamed', consumerUser: 'someone' })
        expect(await store.listOrganisations()).toEqual([{ ...orgA, name: 'Renamed', consumerUser: 'someone' }])
        expect(await store.findOrganisation(orgA.id)).toEqual({ ...orgA, name: 'Renamed', consumerUser: 'someone' })
      })

      test('units: listed by organisation or all; upsert twice keeps one row with the second name', async () => {
        await seedDirectory(store)
        await store.upsertUnit({ organisation: orgA.id, id: '2', name: 'Branch (new)' })
        const a = [unitsOf(orgA.id)[0]!, { organisation: orgA.id, id: '2', name: 'Branch (new)' }]
        sameItems(await store.listUnits(orgA.id), a)
        sameItems(await store.listUnits(orgB.id), unitsOf(orgB.id))
        sameItems(await store.listUnits(), [...a, ...unitsOf(orgB.id)])
        expect(await store.listUnits('nobody')).toEqual([])
      })

      test('a user is found with its default unit and its units in the given order', async () => {
        await seedDirectory(store)
        await store.upsertUser(userBSameName)
        expect(await store.findUser(orgA.id, userA.username)).toEqual(userA)
        expect(await store.findUser(orgB.id, 'maytemplate')).toEqual(userBSameName)
        const noDefault = await store.findUser(orgB.id, 'maytemplate')
        expect(noDefault?.defaultUnit).toBeUndefined()
        expect(noDefault?.units).toEqual([])
        expect(await store.findUser(orgA.id, 'consumer')).toBeUndefined()
        expect(await store.findUser('nobody', userA.username)).toBeUndefined()
      })

      test('upserting a user twice keeps one row; the second units and default unit win', async () => {
        await seedDirectory(store)
        await store.upsertUser({ organisation: orgA.id, username: userA.username, units: ['1'] })
        expect(await store.findUser(orgA.id, userA.username)).toEqual({ organisation: orgA.id, username: userA.username, units: ['1'] })
        await store.upsertUser({ ...userA, defaultUnit: '2', units: ['1', '2'] })
        expect(await store.findUser(orgA.id, userA.username)).toEqual({ ...userA, defaultUnit: '2', units: ['1', '2'] })
        expect((await store.listUsers(orgA.id)).length).toBe(1)
      })

      test('users are listed by organisation or all', async () => {
        await seedDirectory(store)
        await store.upsertUser(userBSameName)
        sameItems(await store.listUsers(orgA.id), [userA])
        sameItems(await store.listUsers(orgB.id), [userB, userBSameName])
        sameItems(await store.listUsers(), [userA, userB, userBSameName])
      })
    })

    describe('Web API keys', () => {
      test('a key is found by digest, with every field; unknown digests answer undefined', async () => {
        await seedDirectory(store)
        expect(await store.findKeyByDigest(keyA.digest)).toBeUndefined()
        await store.upsertKey(keyA)
        expect(await store.findKeyByDigest(keyA.digest)).toEqual(keyA)
        expect(await store.findKeyByDigest('DIGEST-KEY-A')).toBeUndefined()
      })

      test('status ACTIVE and REVOKED, classifications and times are kept as given', async () => {
        await seedDirectory(store)
        const revoked: StoredKey = { ...keyA, digest: 'digest-revoked', status: 'REVOKED' }
        const systemic: StoredKey = { ...keyA, digest: 'digest-systemic', classification: 'SYSTEMIC_KEY', createdAt: FAR, lastUsedAt: FAR + 1 }
        for (const k of [keyA, revoked, systemic]) await store.upsertKey(k)
        expect(await store.findKeyByDigest(revoked.digest)).toEqual(revoked)
        expect(await store.findKeyByDigest(systemic.digest)).toEqual(systemic)
        const s = (await store.listKeys(orgA.id)).find((k) => k.digest === systemic.digest)
        expect(s).toEqual(systemic)
        expect(typeof s?.createdAt).toBe('number')
        expect(typeof s?.lastUsedAt).toBe('number')
        expect((await store.listKeys(orgA.id)).find((k) => k.digest === keyA.digest)?.lastUsedAt).toBeUndefined()
      })

      test('setKeyStatus revokes and reactivates a key, and answers false for an unknown digest', async () => {
        await seedDirectory(store)
        await store.upsertKey(keyA)
        expect(await store.setKeyStatus(keyA.digest, 'REVOKED')).toBe(true)
        expect(await store.findKeyByDigest(keyA.digest)).toEqual({ ...keyA, status: 'REVOKED' })
        expect(await store.setKeyStatus(keyA.digest, 'ACTIVE')).toBe(true)
        expect((await store.findKeyByDigest(keyA.digest))?.status).toBe('ACTIVE')
        expect(await store.setKeyStatus('unknown', 'REVOKED')).toBe(false)
        expect(await store.findKeyByDigest('unknown')).toBeUndefined()
      })

      test('upserting a key twice keeps one row with the second values', async () => {
        await seedDirectory(store)
        await store.upsertKey(keyA)
        const second: StoredKey = { ...keyA, prefix: 'FFFFFF', status: 'REVOKED', classification: 'SYSTEMIC_KEY', lastUsedAt: NOW + 5 }
        await store.upsertKey(second)
        expect(await store.listKeys()).toEqual([second])
        expect(await store.findKeyByDigest(keyA.digest)).toEqual(second)
      })

      test('keys are listed by organisation or all', async () => {
        await seedDirectory(store)
        const keyB: StoredKey = { ...keyA, digest: 'digest-key-b', organisation: orgB.id, user: userB.username }
        await store.upsertKey(keyA)
        await store.upsertKey(keyB)
        sameItems(await store.listKeys(orgA.id), [keyA])
        sameItems(await store.listKeys(orgB.id), [keyB])
        sameItems(await store.listKeys(), [keyA, keyB])
      })
    })

    describe('consumers', () => {
      test('a consumer is found by (organisation, accounts receivable); upsert twice keeps one row with the second values', async () => {
        await seedConsumers(store)
        expect(await store.findConsumerByAccountsReceivable(orgA.id, consumerA.accountsReceivableId)).toEqual(consumerA)
        expect(await store.findConsumerByAccountsReceivable(orgB.id, consumerA.accountsReceivableId)).toBeUndefined()
        await store.upsertConsumer({ ...consumerA, contactInformationId: 'CII-NEW' })
        expect(await store.findConsumerByAccountsReceivable(orgA.id, consumerA.accountsReceivableId)).toEqual({ ...consumerA, contactInformationId: 'CII-NEW' })
        sameItems(await store.listConsumers(orgA.id), [{ ...consumerA, contactInformationId: 'CII-NEW' }, consumerA2])
        sameItems(await store.listConsumers(orgB.id), [consumerB])
        expect((await store.listConsumers()).length).toBe(3)
      })
    })

    describe('access tokens', () => {
      test('an authentication code is looked up in one organisation, or in all of them', async () => {
        await seedAll(store)
        expect(await store.findByAuthenticationCode('digest-code-1', orgA.id)).toEqual([codeToken])
        expect(await store.findByAuthenticationCode('digest-code-1', orgB.id)).toEqual([codeTokenB])
        sameItems(await store.findByAuthenticationCode('digest-code-1'), [codeToken, codeTokenB])
        expect(await store.findByAuthenticationCode('digest-code-2')).toEqual([])
        expect(await store.findByAuthenticationCode('digest-code-1', 'nobody')).toEqual([])
      })

      test('an identifier is looked up in one organisation, with its pass code hash and validity window', async () => {
        await seedAll(store)
        const found = await store.findByIdentifier(orgA.id, 'maria')
        expect(found).toEqual(identifierToken)
        expect(typeof found?.validTo).toBe('number')
        expect(await store.findByIdentifier(orgB.id, 'maria')).toBeUndefined()
        expect(await store.findByIdentifier(orgA.id, 'MARIA')).toBeUndefined()
        expect(await store.findByIdentifier(orgA.id, 'unknown')).toBeUndefined()
      })

      test('states EFFECTIVE, SUSPENDED and CANCELLED are kept; setAccessTokenState changes them and answers false for unknown ids', async () => {
        await seedAll(store)
        expect(await store.setAccessTokenState(codeToken.id, 'SUSPENDED')).toBe(true)
        expect(await store.findByAuthenticationCode('digest-code-1', orgA.id)).toEqual([{ ...codeToken, state: 'SUSPENDED' }])
        expect(await store.setAccessTokenState(identifierToken.id, 'CANCELLED')).toBe(true)
        expect((await store.findByIdentifier(orgA.id, 'maria'))?.state).toBe('CANCELLED')
        expect(await store.setAccessTokenState(codeToken.id, 'EFFECTIVE')).toBe(true)
        expect((await store.findAccessToken(codeToken.id))?.state).toBe('EFFECTIVE')
        expect(await store.setAccessTokenState('unknown', 'SUSPENDED')).toBe(false)
      })

      test('validity windows: open bounds stay open; bounds read back decide usability', async () => {
        await seedConsumers(store)
        const windows: AccessToken[] = [
          { ...codeToken, id: 'w-open', authenticationCodeDigest: 'c-open' },
          { ...codeToken, id: 'w-from', authenticationCodeDigest: 'c-from', validFrom: NOW },
          { ...codeToken, id: 'w-to', authenticationCodeDigest: 'c-to', validTo: NOW + 10 },
          { ...codeToken, id: 'w-both', authenticationCodeDigest: 'c-both', validFrom: NOW, validTo: FAR },
        ]
        for (const w of windows) await store.upsertAccessToken(w)
        for (const w of windows) expect(await store.findAccessToken(w.id)).toEqual(w)
        const open = (await store.findAccessToken('w-open'))!
        expect([open.validFrom, open.validTo]).toEqual([undefined, undefined])
        expect(isAccessTokenUsable(open, FAR)).toBe(true)
        const from = (await store.findAccessToken('w-from'))!
        expect([isAccessTokenUsable(from, NOW - 1), isAccessTokenUsable(from, NOW)]).toEqual([false, true])
        const to = (await store.findAccessToken('w-to'))!
        expect([isAccessTokenUsable(to, NOW + 9), isAccessTokenUsable(to, NOW + 10)]).toEqual([true, false])
      })

      test('upserting an access token twice keeps one row with the second values', async () => {
        await seedAll(store)
        const second: AccessToken = {
          id: codeToken.id, organisation: orgA.id, consumer: consumerA2, authenticationCodeDigest: 'digest-code-9', state: 'SUSPENDED',
          validFrom: NOW, validTo: NOW + 60,
        }
        await store.upsertAccessToken(second)
        expect(await store.findAccessToken(codeToken.id)).toEqual(second)
        expect(await store.findByAuthenticationCode('digest-code-1', orgA.id)).toEqual([])
        expect(await store.findByAuthenticationCode('digest-code-9', orgA.id)).toEqual([second])
        expect((await store.listAccessTokens(orgA.id)).filter((t) => t.id === codeToken.id)).toEqual([second])
        // The identifier token can lose its pass code and gain a code.
        const swapped: AccessToken = { id: identifierToken.id, organisation: orgA.id, consumer: consumerA, authenticationCodeDigest: 'digest-code-7', state: 'EFFECTIVE' }
        await store.upsertAccessToken(swapped)
        expect(await store.findAccessToken(identifierToken.id)).toEqual(swapped)
        expect(await store.findByIdentifier(orgA.id, 'maria')).toBeUndefined()
      })

      test('access tokens are found by id and listed by organisation or all', async () => {
        await seedAll(store)
        expect(await store.findAccessToken(identifierToken.id)).toEqual(identifierToken)
        expect(await store.findAccessToken('unknown')).toBeUndefined()
        sameItems(await store.listAccessTokens(orgA.id), [codeToken, identifierToken])
        sameItems(await store.listAccessTokens(orgB.id), [codeTokenB])
        sameItems(await store.listAccessTokens(), [codeToken, identifierToken, codeTokenB])
      })
    })

    describe('identity providers and links', () => {
      test('a provider keeps its JWKS; upsert twice keeps one row with the second values', async () => {
        await store.upsertIdentityProvider(provider)
        expect(await store.listIdentityProviders()).toEqual([provider])
        const second: IdentityProvider = { ...provider, audience: 'crm2', jwks: { keys: [] } }
        await store.upsertIdentityProvider(second)
        await store.upsertIdentityProvider({ ...provider, issuer: 'https://other.example.com' })
        sameItems(await store.listIdentityProviders(), [second, { ...provider, issuer: 'https://other.example.com' }])
      })

      test('a link leads (issuer, subject, organisation) to its consumer, and nothing else does', async () => {
        await seedAll(store)
        expect(await store.findConsumer(link.issuer, link.subject, orgA.id)).toEqual(consumerA)
        expect(await store.findConsumer(link.issuer, link.subject, orgB.id)).toBeUndefined()
        expect(await store.findConsumer(link.issuer, 'u-43', orgA.id)).toBeUndefined()
        expect(await store.findConsumer('https://evil.example.com', link.subject, orgA.id)).toBeUndefined()
      })

      test('upserting a link twice keeps one row, pointing at the second consumer; links are listed by organisation', async () => {
        await seedAll(store)
        await store.upsertIdentityLink({ ...link, accountsReceivableId: consumerA2.accountsReceivableId })
        expect(await store.findConsumer(link.issuer, link.subject, orgA.id)).toEqual(consumerA2)
        const linkB: IdentityLink = { ...link, organisation: orgB.id, accountsReceivableId: consumerB.accountsReceivableId }
        await store.upsertIdentityLink(linkB)
        expect(await store.listIdentityLinks(orgA.id)).toEqual([{ ...link, accountsReceivableId: consumerA2.accountsReceivableId }])
        expect(await store.listIdentityLinks(orgB.id)).toEqual([linkB])
        expect((await store.listIdentityLinks()).length).toBe(2)
        expect(await store.findConsumer(link.issuer, link.subject, orgB.id)).toEqual(consumerB)
      })
    })

    describe('attempt counters', () => {
      const W = 900

      test('a subject without failures has no count', async () => {
        expect(await store.getAttempts('identifier:ps_dev:maria')).toBeUndefined()
      })

      test('failures inside the window add up; the window starts at the first failure', async () => {
        expect(await addAttempt(store, 's', NOW, W)).toEqual({ subject: 's', failures: 1, windowStart: NOW })
        expect(await addAttempt(store, 's', NOW + 10, W)).toEqual({ subject: 's', failures: 2, windowStart: NOW })
        expect(await addAttempt(store, 's', NOW + W - 1, W)).toEqual({ subject: 's', failures: 3, windowStart: NOW })
        expect(await store.getAttempts('s')).toEqual({ subject: 's', failures: 3, windowStart: NOW })
        expect(await store.getAttempts('t')).toBeUndefined()
      })

      test('a failure once the window has passed starts a new window', async () => {
        await addAttempt(store, 's', NOW, W)
        await addAttempt(store, 's', NOW + 1, W)
        expect(await addAttempt(store, 's', NOW + W, W)).toEqual({ subject: 's', failures: 1, windowStart: NOW + W })
        expect(await addAttempt(store, 's', NOW + W + 1, W)).toEqual({ subject: 's', failures: 2, windowStart: NOW + W })
        expect(await addAttempt(store, 's', FAR, W)).toEqual({ subject: 's', failures: 1, windowStart: FAR })
      })

      test('clearing a subject removes its count and leaves others alone', async () => {
        await addAttempt(store, 'a', NOW, W)
        await addAttempt(store, 'b', NOW, W)
        await store.clearAttempts('a')
        await store.clearAttempts('never-failed')
        expect(await store.getAttempts('a')).toBeUndefined()
        expect(await store.getAttempts('b')).toEqual({ subject: 'b', failures: 1, windowStart: NOW })
        expect(await addAttempt(store, 'a', NOW + 1, W)).toEqual({ subject: 'a', failures: 1, windowStart: NOW + 1 })
      })

      test('concurrent failures all count', async () => {
        const results = await Promise.all(Array.from({ length: 25 }, () => addAttempt(store, 'c', NOW, W)))
        expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
        expect((await store.getAttempts('c'))?.failures).toBe(25)
      })

      if (options.severalInstances) test('failures recorded through several instances on one database all count', async () => {
        if (!sut.openAnother) throw new Error(`${name} says it has several instances but gives no openAnother()`)
        const second = await sut.openAnother()
        others.push(second)
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => addAttempt(i % 2 ? second : store, 'shared', NOW, W)))
        expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
        expect(await second.getAttempts('shared')).toEqual({ subject: 'shared', failures: 30, windowStart: NOW })
      })

      const claimAt = (now: number, limit: number) => ({ now, staleAtOrBefore: now - W, limit })

      test('a claim at the limit is refused and changes nothing; once the window is over a claim starts it again', async () => {
        for (let i = 1; i <= 3; i++) expect(await store.claimAttempt('l', claimAt(NOW + i, 3))).toEqual({ subject: 'l', failures: i, windowStart: NOW + 1 })
        expect(await store.claimAttempt('l', claimAt(NOW + 10, 3))).toBeUndefined()
        expect(await store.getAttempts('l')).toEqual({ subject: 'l', failures: 3, windowStart: NOW + 1 })
        // A higher limit (another kind's threshold) is a different question of the same count.
        expect(await store.claimAttempt('l', claimAt(NOW + 10, 5))).toEqual({ subject: 'l', failures: 4, windowStart: NOW + 1 })
        expect(await store.claimAttempt('l', claimAt(NOW + 1 + W, 3))).toEqual({ subject: 'l', failures: 1, windowStart: NOW + 1 + W })
      })

      test('giving a claim back takes one off its window, removes a counter left at 0, and takes nothing off a newer window', async () => {
        const first = await store.claimAttempt('g', claimAt(NOW, 10))
        await store.claimAttempt('g', claimAt(NOW, 10))
        await store.giveBackAttempt('g', first!.windowStart)
        expect(await store.getAttempts('g')).toEqual({ subject: 'g', failures: 1, windowStart: NOW })
        await store.giveBackAttempt('g', NOW)
        expect(await store.getAttempts('g')).toBeUndefined()
        await store.giveBackAttempt('g', NOW)
        expect(await store.getAttempts('g')).toBeUndefined()
        await store.claimAttempt('g', claimAt(NOW, 10))
        await store.claimAttempt('g', claimAt(NOW + W, 10))
        await store.giveBackAttempt('g', NOW)
        expect(await store.getAttempts('g')).toEqual({ subject: 'g', failures: 1, windowStart: NOW + W })
        await store.giveBackAttempt('never-claimed', NOW)
        expect(await store.getAttempts('never-claimed')).toBeUndefined()
      })

      test('300 concurrent claims with 20 left: exactly 20 are granted', async () => {
        for (let i = 0; i < 5; i++) await store.claimAttempt('b', claimAt(NOW, 25))
        const results = await Promise.all(Array.from({ length: 300 }, () => store.claimAttempt('b', claimAt(NOW + 1, 25))))
        expect(results.filter((r) => r !== undefined).map((r) => r!.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6))
        expect(await store.getAttempts('b')).toEqual({ subject: 'b', failures: 25, windowStart: NOW })
      })

      if (options.severalInstances) test('300 concurrent claims through two instances with 20 left: exactly 20 are granted', async () => {
        if (!sut.openAnother) throw new Error(`${name} says it has several instances but gives no openAnother()`)
        const second = await sut.openAnother()
        others.push(second)
        for (let i = 0; i < 5; i++) await store.claimAttempt('b2', claimAt(NOW, 25))
        const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? second : store).claimAttempt('b2', claimAt(NOW + 1, 25))))
        expect(results.filter((r) => r !== undefined)).toHaveLength(20)
        // Give-backs through both instances meet the same row.
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? second : store).giveBackAttempt('b2', NOW)))
        expect(await store.getAttempts('b2')).toEqual({ subject: 'b2', failures: 15, windowStart: NOW })
      })

      test('claims and give-backs in any order agree with the rules of core/lockout.ts', async () => {
        let run = 0
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.oneof(
              fc.record({ op: fc.constant('claim' as const), at: fc.integer({ min: 0, max: 3 * W }), limit: fc.integer({ min: 1, max: 4 }) }),
              fc.record({ op: fc.constant('giveBack' as const), window: fc.integer({ min: 0, max: 3 * W }) }),
            ), { maxLength: 12 }),
            async (ops) => {
              const subject = `p${++run}`
              let model: AttemptCount | undefined
              let now = NOW
              for (const o of ops) {
                if (o.op === 'claim') {
                  now = Math.max(now, NOW + o.at)
                  const c = claimAt(now, o.limit)
                  const next = afterClaim(model, c)
                  expect(await store.claimAttempt(subject, c)).toEqual(next && { subject, ...next })
                  model = next ? { subject, ...next } : model
                } else {
                  // Mostly the current window, sometimes one that is not.
                  const windowStart = model && o.window % 2 === 0 ? model.windowStart : NOW + o.window
                  await store.giveBackAttempt(subject, windowStart)
                  const next = afterGiveBack(model, windowStart)
                  model = next && { subject, ...next }
                }
                expect(await store.getAttempts(subject)).toEqual(model)
              }
            },
          ),
          { numRuns: 25 },
        )
      })
    })

    describe('audit log', () => {
      test('events are listed in the order recorded, with increasing ids, and filtered by id', async () => {
        expect(await store.listAuditEvents()).toEqual([])
        const events = [issued('S1'), failed, lockedOut, issued('S2', { mode: 'IdentityJwt', keyDigest: undefined, keyPrefix: undefined })]
        for (const e of events) await store.record(e)
        const all = await store.listAuditEvents()
        expect(all.map((e) => e.event)).toEqual(events)
        const ids = all.map((e) => e.id)
        expect([...ids].sort((a, b) => a - b)).toEqual(ids)
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.every((id) => typeof id === 'number')).toBe(true)
        expect((await store.listAuditEvents(ids[1])).map((e) => e.event)).toEqual(events.slice(2))
        expect(await store.listAuditEvents(ids[3])).toEqual([])
        expect((await store.listAuditEvents(0)).length).toBe(4)
      })
    })

    describe('revocation check', () => {
      test('a session whose key is active and access token usable is not revoked', async () => {
        await seedAll(store)
        await store.record(issued('S1'))
        expect(await store.isRevoked('S1', NOW + 1)).toBe(false)
      })

      test('an unknown session is revoked', async () => {
        await seedAll(store)
        await store.record(failed)
        expect(await store.isRevoked('NEVER-ISSUED', NOW)).toBe(true)
      })

      test('a session whose key was revoked is revoked', async () => {
        await seedAll(store)
        await store.record(issued('S1'))
        await store.setKeyStatus(keyA.digest, 'REVOKED')
        expect(await store.isRevoked('S1', NOW + 1)).toBe(true)
      })

      test('a session whose access token was suspended or cancelled is revoked', async () => {
        await seedAll(store)
        await store.record(issued('S1'))
        await store.record(issued('S2', { accessTokenId: identifierToken.id, mode: 'IdentifierPassCode' }))
        await store.setAccessTokenState(codeToken.id, 'SUSPENDED')
        await store.setAccessTokenState(identifierToken.id, 'CANCELLED')
        expect(await store.isRevoked('S1', NOW + 1)).toBe(true)
        expect(await store.isRevoked('S2', NOW + 1)).toBe(true)
        await store.setAccessTokenState(codeToken.id, 'EFFECTIVE')
        expect(await store.isRevoked('S1', NOW + 1)).toBe(false)
      })

      test('a session whose access token left its validity window, or whose key or token is gone, is revoked', async () => {
        await seedAll(store)
        await store.upsertAccessToken({ ...codeToken, validTo: NOW + 100 })
        await store.record(issued('S1'))
        expect(await store.isRevoked('S1', NOW + 99)).toBe(false)
        expect(await store.isRevoked('S1', NOW + 100)).toBe(true)
        await store.record(issued('S3', { keyDigest: 'no-such-key' }))
        await store.record(issued('S4', { accessTokenId: 'no-such-token' }))
        expect(await store.isRevoked('S3', NOW)).toBe(true)
        expect(await store.isRevoked('S4', NOW)).toBe(true)
      })

      test('a keyless session is checked on its access token only; an identity-JWT session on nothing', async () => {
        await seedAll(store)
        await store.record(issued('S1', { keyDigest: undefined, keyPrefix: undefined }))
        await store.record(issued('S2', { mode: 'IdentityJwt', keyDigest: undefined, keyPrefix: undefined, accessTokenId: undefined }))
        await store.setKeyStatus(keyA.digest, 'REVOKED')
        expect(await store.isRevoked('S1', NOW)).toBe(false)
        expect(await store.isRevoked('S2', NOW)).toBe(false)
        await store.setAccessTokenState(codeToken.id, 'SUSPENDED')
        expect(await store.isRevoked('S1', NOW)).toBe(true)
        expect(await store.isRevoked('S2', NOW)).toBe(false)
      })
    })

    describe('transactions', () => {
      test('a transaction that throws leaves nothing written, and the error goes through', async () => {
        await seedDirectory(store)
        await addAttempt(store, 's', NOW, 900)
        const boom = new Error('boom')
        await expect(
          store.transaction(async (tx) => {
            await tx.upsertOrganisation({ id: 'new-org', name: 'New', consumerUser: 'u' })
            await tx.upsertOrganisation({ ...orgA, name: 'Changed' })
            await tx.upsertUser({ ...userA, units: ['1'] })
            await tx.upsertConsumer({ organisation: orgA.id, contactInformationId: 'X', accountsReceivableId: 'ARI-X' })
            await tx.record(failed)
            await addAttempt(tx, 's', NOW + 1, 900)
            await tx.clearAttempts('s')
            expect(await tx.findOrganisation('new-org')).toBeDefined()
            throw boom
          }),
        ).rejects.toBe(boom)
        expect(await store.findOrganisation('new-org')).toBeUndefined()
        expect(await store.findOrganisation(orgA.id)).toEqual(orgA)
        expect(await store.findUser(orgA.id, userA.username)).toEqual(userA)
        expect(await store.listConsumers()).toEqual([])
        expect(await store.listAuditEvents()).toEqual([])
        expect(await store.getAttempts('s')).toEqual({ subject: 's', failures: 1, windowStart: NOW })
        // The store still works afterwards.
        await store.upsertOrganisation({ id: 'after', name: 'After', consumerUser: 'u' })
        expect(await store.findOrganisation('after')).toBeDefined()
      })

      test('a transaction that succeeds writes everything and answers what its work answers', async () => {
        const answer = await store.transaction(async (tx) => {
          await seedAll(tx)
          await tx.record(issued('S1'))
          return (await tx.findKeyByDigest(keyA.digest))?.prefix
        })
        expect(answer).toBe(keyA.prefix)
        expect(await store.findKeyByDigest(keyA.digest)).toEqual(keyA)
        expect(await store.findByIdentifier(orgA.id, 'maria')).toEqual(identifierToken)
        expect(await store.isRevoked('S1', NOW)).toBe(false)
      })

      test('a transaction inside a transaction joins it', async () => {
        await expect(
          store.transaction(async (tx) => {
            await tx.upsertOrganisation(orgA)
            await tx.transaction(async (inner) => inner.upsertOrganisation(orgB))
            expect(await tx.findOrganisation(orgB.id)).toEqual(orgB)
            throw new Error('undo both')
          }),
        ).rejects.toThrow('undo both')
        expect(await store.listOrganisations()).toEqual([])
      })
    })

    storageBoundsContract(() => ({ store, ...(sut.openAnother ? { openAnother: sut.openAnother } : {}) }), options)

    describe('the store itself', () => {
      test('ping answers when the store is reachable', async () => {
        await expect(store.ping()).resolves.toBeUndefined()
      })
    })

    operationsContract({ store: () => store, now: NOW, seedAll, issued })
  })
}
