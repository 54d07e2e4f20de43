/**
 * The identifier's attempt is counted before its pass code is verified (AttemptLimiter.claim), at the level of the
 * use case with the in-memory store: a concurrent burst is verified at most `threshold` times; a right pass code
 * whose unit is then refused (INVALIDUNIT, which does not count) leaves no count behind; the lock-out is audited
 * once; an unknown identifier is locked out exactly like a known one (a lock-out does not tell which exist); and the
 * key and the client address are claimed the same way, so a burst against them checks at most their threshold.
 */
import { describe, expect, it } from 'vitest'
import { defaultLockoutPolicy } from '../../core/index.js'
import { ADDRESS, code, failure, fixture, KEY, ok, pass } from '../core/issue-fixture.js'

describe('identifier attempts are claimed before verification', () => {
  it('a burst of 20 concurrent wrong pass codes is verified 5 times; the rest are refused unchecked', async () => {
    const f = await fixture()
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => f.issue(pass('maria', `guess${i}`), KEY)))
    const names = results.map((r) => failure(r).name)
    expect(names.filter((n) => n === 'INVALIDACCESSTOKEN')).toHaveLength(5)
    expect(names.filter((n) => n === 'TOOMANYATTEMPTS')).toHaveLength(15)
    expect(f.hasher.calls.verify).toBe(5)
    const lockouts = (await f.audit()).filter((e) => e.type === 'locked_out')
    expect(lockouts).toStrictEqual([{ type: 'locked_out', at: f.clock.now, subject: { kind: 'identifier', id: 'ps_dev/maria' }, clientAddress: ADDRESS }])
  })

  it('a right pass code with a refused unit does not count toward the lock-out', async () => {
    const f = await fixture()
    for (let i = 0; i < 8; i++) expect(failure(await f.issue(pass('maria', '4711', { unit: '99' }), KEY)).name).toBe('INVALIDUNIT')
    for (let i = 0; i < 4; i++) expect(failure(await f.issue(pass('maria', 'wrong'), KEY)).name).toBe('INVALIDACCESSTOKEN')
    expect(ok(await f.issue(pass('maria', '4711'), KEY)).session.unit).toBe('1')
  })

  it('an unknown identifier is counted and locked out like a known one, and costs a dummy verification each time', async () => {
    const f = await fixture()
    for (const identifier of ['maria', 'nobody']) {
      for (let i = 0; i < 5; i++) expect(failure(await f.issue(pass(identifier, 'wrong'), KEY)).name).toBe('INVALIDACCESSTOKEN')
      const locked = failure(await f.issue(pass(identifier, 'wrong'), KEY))
      expect(locked.name).toBe('TOOMANYATTEMPTS')
      expect(locked.retryAfterSeconds).toBe(15 * 60)
    }
    expect(f.hasher.calls).toEqual({ verify: 5, verifyDummy: 5 })
  })

  const countLookups = (f: Awaited<ReturnType<typeof fixture>>) => {
    let n = 0
    const find = f.store.findByAuthenticationCode
    f.store.findByAuthenticationCode = (...args) => {
      n++
      return find(...args)
    }
    return () => n
  }

  it('key: 200 concurrent code guesses with one key (threshold 20) look up 20 codes', async () => {
    const f = await fixture({ policy: { ...defaultLockoutPolicy, thresholds: { ...defaultLockoutPolicy.thresholds, key: 20 } } })
    const lookups = countLookups(f)
    const names = (await Promise.all(Array.from({ length: 200 }, (_, i) => f.issue(code(`guess${i}`), KEY)))).map((r) => failure(r).name)
    expect(lookups()).toBe(20)
    expect(names.filter((n) => n === 'TOOMANYATTEMPTS')).toHaveLength(180)
  })

  it('key: 200 concurrent pass codes for distinct identifiers with one key (threshold 20) verify 20', async () => {
    const f = await fixture({ policy: { ...defaultLockoutPolicy, thresholds: { ...defaultLockoutPolicy.thresholds, key: 20 } } })
    await Promise.all(Array.from({ length: 200 }, (_, i) => f.issue(pass(`nobody${i}`, 'x'), KEY)))
    expect(f.hasher.calls.verify + f.hasher.calls.verifyDummy).toBe(20)
  })

  it('address: 200 concurrent keyless guesses (threshold 20) look up 20 codes', async () => {
    const f = await fixture()
    const lookups = countLookups(f)
    const names = (await Promise.all(Array.from({ length: 200 }, (_, i) => f.issue(code(`guess${i}`))))).map((r) => failure(r).name)
    expect(lookups()).toBe(20)
    expect(names.filter((n) => n === 'INVALIDACCESSTOKEN')).toHaveLength(20)
  })
})
