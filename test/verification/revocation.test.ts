/**
 * SPEC 6, the optional revocation check: a session is refused once the key that created it is revoked or its access
 * token is no longer effective (the 'issued' audit event records both), when REVOCATION_CHECK is on; accepted when
 * off. Answers are cached for REVOCATION_CACHE_SECONDS (0: the store is asked every time), in a bounded cache.
 * Revocation goes through a second connection to the service's SQLite file, as the CLI does.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cachedRevocationCheck } from '../../adapters/store/revocation-cache.js'
import { accessTokenId } from '../../adapters/provisioning/ids.js'
import type { Store } from '../../adapters/store/store.js'
import type { RevocationCheck } from '../../core/index.js'
import { SESSION_ROUTE, startTestService, type TestService } from '../support/service.js'
import { codeBody, expectInvalidToken, issueToken, openServiceStore, readSecrets, secretsPath, sendToken, serviceDigest, signWith } from './support.js'
import { testClock } from '../support/doubles.js'
import { EXAMPLE_CODE, EXAMPLE_KEY } from '../support/example.js'

const check = (svc: TestService, token: string) => sendToken(svc.url, SESSION_ROUTE, 'query', token)
const expectAccepted = async (svc: TestService, token: string) => {
  const r = await check(svc, token)
  expect(r.status, r.text).toBe(200)
}

/** A service, a second connection to its store, and ways to revoke and restore what the example's session came from. */
const setup = async (flags: Record<string, string>, clock = testClock('runs')) => {
  const svc = await startTestService(flags, { clock })
  const store: Store = await openServiceStore(svc)
  const digest = serviceDigest(svc)
  const keyDigest = digest.digest(EXAMPLE_KEY)
  const tokenId = accessTokenId('ps_dev', { codeDigest: digest.digest(EXAMPLE_CODE) })
  return {
    svc,
    clock,
    revokeKey: async () => expect(await store.setKeyStatus(keyDigest, 'REVOKED')).toBe(true),
    restoreKey: async () => expect(await store.setKeyStatus(keyDigest, 'ACTIVE')).toBe(true),
    suspendAccessToken: async () => expect(await store.setAccessTokenState(tokenId, 'SUSPENDED')).toBe(true),
    restoreAccessToken: async () => expect(await store.setAccessTokenState(tokenId, 'EFFECTIVE')).toBe(true),
    stop: async () => {
      await store.close()
      await svc.stop()
    },
  }
}
type Setup = Awaited<ReturnType<typeof setup>>

describe('revocation check on, no cache (REVOCATION_CACHE_SECONDS=0)', () => {
  let s: Setup
  beforeAll(async () => {
    s = await setup({ 'revocation-check': 'true', 'revocation-cache': '0' })
  })
  afterAll(async () => s?.stop())
  afterEach(async () => {
    await s.restoreKey()
    await s.restoreAccessToken()
  })

  it('refuses the session of a revoked key at once, and accepts it again when the key is active again', async () => {
    const token = await issueToken(s.svc.url)
    await expectAccepted(s.svc, token)
    await s.revokeKey()
    expectInvalidToken(await check(s.svc, token))
    const r = await check(s.svc, token)
    expect(r.json.status.message).toContain('revoked')
    await s.restoreKey()
    await expectAccepted(s.svc, token)
  })

  it('refuses the session of an access token that is no longer effective, by every carrier', async () => {
    const token = await issueToken(s.svc.url)
    await s.suspendAccessToken()
    for (const carrier of ['query', 'body', 'bearer'] as const) expectInvalidToken(await sendToken(s.svc.url, SESSION_ROUTE, carrier, token))
  })

  it('refuses a keyless session when its access token is suspended, not when the key is revoked', async () => {
    const keyless = await issueToken(s.svc.url, codeBody(EXAMPLE_CODE), {})
    await s.revokeKey()
    await expectAccepted(s.svc, keyless)
    await s.suspendAccessToken()
    expectInvalidToken(await check(s.svc, keyless))
  })

  it('refuses a validly signed token of a session this deployment never issued', async () => {
    const secrets = readSecrets(secretsPath(s.svc))
    const forged = await signWith(secrets.signingKeys.find((k) => k.kid === secrets.activeKid)!)
    expectInvalidToken(await check(s.svc, forged))
  })
})

describe('revocation check off (the default)', () => {
  let s: Setup
  beforeAll(async () => {
    s = await setup({})
  })
  afterAll(async () => s?.stop())

  it('accepts the session of a revoked key and of a suspended access token until it expires', async () => {
    expect(s.svc.config.revocationCheck).toBe(false)
    const token = await issueToken(s.svc.url)
    await s.revokeKey()
    await s.suspendAccessToken()
    await expectAccepted(s.svc, token)
  })
})

describe('revocation check on, cached for 60 s', () => {
  let s: Setup
  beforeAll(async () => {
    s = await setup({ 'revocation-check': 'true', 'revocation-cache': '60' })
  })
  afterAll(async () => s?.stop())

  it('keeps accepting a session it checked within the cache lifetime, and refuses it once the lifetime has passed', async () => {
    const token = await issueToken(s.svc.url)
    await expectAccepted(s.svc, token) // asked the store: not revoked; remembered for 60 s
    await s.revokeKey()
    await expectAccepted(s.svc, token)
    s.clock.advance(59)
    await expectAccepted(s.svc, token)
    s.clock.advance(1)
    expectInvalidToken(await check(s.svc, token))
  })

  it('asks the store about a session it has not seen yet, so a new session of a revoked key is refused at once', async () => {
    await s.restoreKey()
    const token = await issueToken(s.svc.url)
    await s.revokeKey()
    expectInvalidToken(await check(s.svc, token))
    await s.restoreKey()
  })
})

describe('cachedRevocationCheck', () => {
  /** A check that answers from a table and counts the questions. */
  const counting = (answers: Record<string, boolean> = {}) => {
    const asked: string[] = []
    const check: RevocationCheck = {
      isRevoked: async (id) => {
        asked.push(id)
        return answers[id] ?? false
      },
    }
    return { check, asked, answers }
  }

  it('with lifetime 0 is the check itself: every question reaches it', async () => {
    const { check, asked } = counting()
    const cached = cachedRevocationCheck(check, testClock(100), 0)
    expect(cached).toBe(check)
    await cached.isRevoked('A', 100)
    await cached.isRevoked('A', 100)
    expect(asked).toEqual(['A', 'A'])
  })

  it('answers from the cache within the lifetime, asks again after it, and passes now through', async () => {
    const clock = testClock(1000)
    const { check, asked, answers } = counting({ A: false })
    const cached = cachedRevocationCheck(check, clock, 30)
    expect(await cached.isRevoked('A', 1000)).toBe(false)
    answers['A'] = true
    clock.now = 1029
    expect(await cached.isRevoked('A', 1029)).toBe(false)
    clock.now = 1030
    expect(await cached.isRevoked('A', 1030)).toBe(true)
    expect(asked).toEqual(['A', 'A'])
  })

  it('remembers at most maxEntries sessions, dropping the least recently asked', async () => {
    const { check, asked } = counting()
    const cached = cachedRevocationCheck(check, testClock(0), 3600, { maxEntries: 2 })
    await cached.isRevoked('A', 0)
    await cached.isRevoked('B', 0)
    await cached.isRevoked('A', 0) // A is now the most recent
    await cached.isRevoked('C', 0) // drops B
    await cached.isRevoked('A', 0)
    await cached.isRevoked('B', 0)
    expect(asked).toEqual(['A', 'B', 'C', 'B'])
  })

  it('stays bounded under many sessions', async () => {
    const { check, asked } = counting()
    const cached = cachedRevocationCheck(check, testClock(0), 3600, { maxEntries: 100 })
    for (let i = 0; i < 10_000; i++) await cached.isRevoked(`S${i}`, 0)
    asked.length = 0
    for (let i = 9_900; i < 10_000; i++) await cached.isRevoked(`S${i}`, 0)
    expect(asked).toEqual([])
    await cached.isRevoked('S0', 0)
    expect(asked).toEqual(['S0'])
  })

  it('shares one question among concurrent ones, and does not remember a failure', async () => {
    let calls = 0
    let fail = true
    const check: RevocationCheck = {
      isRevoked: async () => {
        calls++
        await new Promise((r) => setTimeout(r, 10))
        if (fail) throw new Error('store down')
        return false
      },
    }
    const cached = cachedRevocationCheck(check, testClock(0), 60)
    const answers = await Promise.allSettled([cached.isRevoked('A', 0), cached.isRevoked('A', 0), cached.isRevoked('A', 0)])
    expect(answers.every((a) => a.status === 'rejected')).toBe(true)
    expect(calls).toBe(1)
    fail = false
    expect(await cached.isRevoked('A', 0)).toBe(false)
    expect(calls).toBe(2)
  })

  it('refuses a negative lifetime and a cache without room', () => {
    const { check } = counting()
    expect(() => cachedRevocationCheck(check, testClock(0), -1)).toThrow(RangeError)
    expect(() => cachedRevocationCheck(check, testClock(0), 1, { maxEntries: 0 })).toThrow(RangeError)
  })
})
