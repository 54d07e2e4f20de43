/** randomSessionIds and systemClock: the ids and times stamped on sessions. */
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../../adapters/clock/system-clock.js'
import { randomSessionIds, sessionIdAt } from '../../../adapters/crypto/session-ids.js'
import { SESSION_ID } from '../../../core/index.js'

describe('randomSessionIds', () => {
  it('gives 32 upper-case hex characters, all different, across pool refills', () => {
    const ids = Array.from({ length: 2000 }, () => randomSessionIds.newSessionId())
    for (const id of ids) expect(id).toMatch(SESSION_ID)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('has 80 random bits after the time: every hex digit shows up there (not a counter)', () => {
    const chars = new Set(Array.from({ length: 100 }, () => randomSessionIds.newSessionId().slice(12)).join(''))
    expect(chars.size).toBe(16)
    const tails = Array.from({ length: 1000 }, () => sessionIdAt(1_795_822_578_000).slice(12))
    expect(new Set(tails).size).toBe(tails.length)
  })

  it('starts with the issue time in milliseconds, so that ids sort (and index) in time order', () => {
    const before = Date.now()
    const id = randomSessionIds.newSessionId()
    const millis = parseInt(id.slice(0, 12), 16)
    expect(millis).toBeGreaterThanOrEqual(before)
    expect(millis).toBeLessThanOrEqual(Date.now())
    expect(sessionIdAt(0x123456789ab).slice(0, 12)).toBe('0123456789AB')
    const ids = [1, 2, 1_000, 1_795_822_578_000, 2 ** 48 - 1].map(sessionIdAt)
    expect([...ids].sort()).toEqual(ids)
  })
})

describe('systemClock', () => {
  it('answers whole seconds, not ahead of Date.now()', () => {
    const before = Date.now() / 1000
    const now = systemClock.nowSeconds()
    expect(Number.isInteger(now)).toBe(true)
    expect(now).toBeLessThanOrEqual(Date.now() / 1000)
    expect(now).toBeGreaterThan(before - 1)
  })
})
