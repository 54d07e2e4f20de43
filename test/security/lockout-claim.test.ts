/**
 * The identifier's attempt is counted before its pass code is verified (AttemptLimiter.claim), at the level of the
 * use case with the in-memory store: a concurrent burst is verified at most `threshold` times; a right pass code
 * whose unit is then refused (INVALIDUNIT, which does not count) leaves no count behind; the lock-out is audited
 * once; and an unknown identifier is locked out exactly like a known one (a lock-out does not tell which exist).
 */
import { describe, expect, it } from 'vitest'
import { ADDRESS, failure, fixture, KEY, ok, pass } from '../core/issue-fixture.js'

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
})
