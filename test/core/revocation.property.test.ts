// Tests core/revocation.ts: the one revocation rule over every combination of a session's standing (released, key
// present/missing/revoked/reclassified, access token present/missing/unusable), in both scopes, against a plain
// statement of the rule; and the composition that reads the standing through the store's ports (reads only what
// the scope needs).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  accessTokenStates, eitherRevocation, isAccessTokenUsable, keyClassifications, keyStatuses, readSessionStanding, revocationOf,
  sessionRevocationCheck, type AccessToken, type SessionRecord, type SessionStanding,
} from '../../core/index.js'

const T = 1_800_000_000
const consumer = { organisation: 'ps_dev', contactInformationId: 'C', accountsReceivableId: 'A' }
const accessToken: fc.Arbitrary<AccessToken> = fc.record(
  {
    id: fc.constant('at-1'),
    organisation: fc.constant('ps_dev'),
    consumer: fc.constant(consumer),
    authenticationCodeDigest: fc.constant('d'),
    state: fc.constantFrom(...accessTokenStates),
    validFrom: fc.integer({ min: T - 100, max: T + 100 }),
    validTo: fc.integer({ min: T - 100, max: T + 100 }),
  },
  { requiredKeys: ['id', 'organisation', 'consumer', 'authenticationCodeDigest', 'state'] },
)
const key = fc.record({ status: fc.constantFrom(...keyStatuses), classification: fc.constantFrom(...keyClassifications) })
const standing: fc.Arbitrary<SessionStanding> = fc.record(
  { released: fc.boolean(), key: fc.option(key, { nil: null }), accessToken: fc.option(accessToken, { nil: null }) },
  { requiredKeys: ['released'] },
)
const now = fc.integer({ min: T - 200, max: T + 200 })

describe('revocationOf', () => {
  it('refuses exactly the released sessions, and with the full scope also bad keys, bad access tokens and unknown sessions', () => {
    fc.assert(
      fc.property(fc.option(standing, { nil: undefined }), now, (s, at) => {
        const keyBad = s?.key !== undefined && !(s.key !== null && s.key.status === 'ACTIVE' && s.key.classification === 'CONSUMER_APPLICATION_KEY')
        const tokenBad = s?.accessToken !== undefined && !(s.accessToken !== null && isAccessTokenUsable(s.accessToken, at))
        const all = revocationOf(s, at, 'all')
        const release = revocationOf(s, at, 'release')
        expect(release !== undefined).toBe(s?.released === true)
        expect(all !== undefined).toBe(s === undefined || s.released || keyBad || tokenBad)
        // The release scope never refuses what the full scope lets stand.
        if (all === undefined) expect(release).toBeUndefined()
        if (s?.released) expect(all).toBe('released')
      }),
    )
  })

  it('names the first reason: unknown, released, key, then access token', () => {
    expect(revocationOf(undefined, T)).toBe('unknown')
    expect(revocationOf({ released: true, key: null, accessToken: null }, T)).toBe('released')
    expect(revocationOf({ released: false, key: { status: 'ACTIVE', classification: 'SYSTEMIC_KEY' }, accessToken: null }, T)).toBe('key')
    expect(revocationOf({ released: false, accessToken: null }, T)).toBe('access_token')
    expect(revocationOf({ released: false }, T)).toBeUndefined()
  })
})

describe('sessionRevocationCheck', () => {
  const whose = { organisation: 'o', accountsReceivableId: 'A', expiresAt: T + 7200 }
  const setup = (record: SessionRecord | undefined) => {
    const asked: string[] = []
    const deps = {
      ledger: { sessionRecord: async (id: string) => (asked.push(`record:${id}`), record) },
      keys: { findKeyWithUser: async (d: string) => (asked.push(`key:${d}`), d === 'k' ? { key: { digest: 'k', prefix: 'EE', organisation: 'o', user: 'u', classification: 'CONSUMER_APPLICATION_KEY' as const, status: 'ACTIVE' as const } } : undefined) },
      accessTokens: { findAccessToken: async (id: string) => (asked.push(`token:${id}`), id === 'at' ? { id, organisation: 'o', consumer, authenticationCodeDigest: 'd', state: 'SUSPENDED' as const } : undefined) },
    }
    return { deps, asked }
  }

  it('the release scope reads only the record; the full scope the key and access token too', async () => {
    const a = setup({ ...whose, keyDigest: 'k', accessTokenId: 'at', released: false })
    expect(await sessionRevocationCheck(a.deps, 'release').isRevoked('S', T)).toBe(false)
    expect(a.asked).toEqual(['record:S'])
    expect(await sessionRevocationCheck(a.deps, 'all').isRevoked('S', T)).toBe(true)
    expect(await readSessionStanding(a.deps, 'S', 'all')).toEqual({
      released: false, key: expect.objectContaining({ status: 'ACTIVE' }), accessToken: expect.objectContaining({ state: 'SUSPENDED' }),
    })
    const gone = setup({ ...whose, keyDigest: 'missing', released: false })
    expect(await readSessionStanding(gone.deps, 'S', 'all')).toEqual({ released: false, key: null })
    const released = setup({ ...whose, keyDigest: 'k', released: true })
    expect(await sessionRevocationCheck(released.deps, 'all').isRevoked('S', T)).toBe(true)
    expect(released.asked).toEqual(['record:S'])
  })

  it('eitherRevocation asks the second check only when the first lets the session stand', async () => {
    const asked: string[] = []
    const check = (name: string, answer: boolean) => ({ isRevoked: async () => (asked.push(name), answer) })
    expect(await eitherRevocation(check('a', true), check('b', false)).isRevoked('S', T)).toBe(true)
    expect(asked).toEqual(['a'])
    expect(await eitherRevocation(check('c', false), check('d', true)).isRevoked('S', T)).toBe(true)
    expect(await eitherRevocation(check('e', false), check('f', false)).isRevoked('S', T)).toBe(false)
    expect(asked).toEqual(['a', 'c', 'd', 'e', 'f'])
  })
})
