/**
 * KeyStore.findKeyWithUser, the core's one read of a key (every store reads a key and its user in one look-up): a use
 * case over the store's own answers every request exactly as one over the two separate look-ups (the key by digest,
 * then its user), with the same audit trail, and reads no user through the directory for a keyed request.
 */
import { describe, expect, it } from 'vitest'
import { issueSessionToken, type KeyStore } from '../../core/index.js'
import { ADDRESS, code, fixture, KEY, OTHER_KEY, pass, REVOKED_KEY, SYSTEMIC_KEY, T0 } from './issue-fixture.js'
import { fakeDigest } from '../support/doubles.js'
import { EXAMPLE_CODE } from '../support/example.js'

const requests: ReadonlyArray<[body: unknown, key: string | undefined]> = [
  [code(EXAMPLE_CODE, { unit: '1' }), KEY],
  [code(EXAMPLE_CODE), KEY],
  [code(EXAMPLE_CODE, { unit: '99' }), KEY],
  [code(EXAMPLE_CODE), REVOKED_KEY],
  [code(EXAMPLE_CODE), SYSTEMIC_KEY],
  [code(EXAMPLE_CODE), OTHER_KEY],
  [code(EXAMPLE_CODE), 'NO-SUCH-KEY'],
  [code(EXAMPLE_CODE), 'ORPHAN-KEY'],
  [pass('maria', '4711'), KEY],
  [pass('maria', 'wrong'), KEY],
  [pass('maria', '4711'), 'ORPHAN-KEY'],
  [code(EXAMPLE_CODE), undefined],
]

/** A fixture whose store also holds a key of a user that does not exist (the memory store allows it). */
const withOrphanKey = async () => {
  const f = await fixture()
  await f.store.upsertKey({
    digest: fakeDigest.digest('ORPHAN-KEY'), prefix: 'ORPHAN', organisation: 'ps_dev', user: 'nobody',
    classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: T0 - 1,
  })
  return f
}

describe('a key store that reads the key with its user', () => {
  it('answers every request as the two look-ups do, with the same audit events, in one look-up', async () => {
    const plain = await withOrphanKey()
    const joined = await withOrphanKey()
    const calls = { joined: 0, user: 0 }
    const store = joined.store
    // The two look-ups, as one answer.
    const keys: KeyStore = {
      findKeyWithUser: async (d) => {
        calls.joined++
        const key = await store.findKeyByDigest(d)
        if (!key) return undefined
        const user = await store.findUser(key.organisation, key.user)
        return user ? { key, user } : { key }
      },
    }
    const directory = { findOrganisation: store.findOrganisation.bind(store), findUser: async (o: string, u: string) => (calls.user++, store.findUser(o, u)) }
    const run = issueSessionToken({ ...joined.deps, keys, directory })
    for (const [body, key] of requests) {
      const input = { body, key: key === undefined ? ({ _tag: 'NoKey' } as const) : ({ _tag: 'Key', key } as const), clientAddress: ADDRESS }
      const a = await issueSessionToken(plain.deps)(input)()
      const b = await run(input)()
      expect(b, JSON.stringify([body, key])).toEqual(a)
    }
    expect(await joined.audit()).toEqual(await plain.audit())
    expect(calls.joined).toBeGreaterThan(0)
    // Only the keyless request reads a user (the organisation's consumer user) through the directory.
    expect(calls.user).toBe(1)
  })

  it('a store that fails makes it SERVICEUNAVAILABLE', async () => {
    const f = await fixture()
    const keys: KeyStore = { findKeyWithUser: async () => Promise.reject(new Error('down')) }
    const r = await issueSessionToken({ ...f.deps, keys })({ body: code(EXAMPLE_CODE), key: { _tag: 'Key', key: KEY }, clientAddress: ADDRESS })()
    expect(r).toMatchObject({ _tag: 'Left', left: { name: 'SERVICEUNAVAILABLE' } })
  })
})
