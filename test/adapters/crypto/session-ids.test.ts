/** randomSessionIds and systemClock: the ids and times stamped on sessions. */
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../../adapters/clock.js'
import { randomSessionIds } from '../../../adapters/crypto/session-ids.js'
import { SESSION_ID } from '../../../core/index.js'

describe('randomSessionIds', () => {
  it('gives 32 upper-case hex characters, all different, across pool refills', () => {
    const ids = Array.from({ length: 2000 }, () => randomSessionIds.newSessionId())
    for (const id of ids) expect(id).toMatch(SESSION_ID)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('uses every hex digit (the bytes are random, not a counter)', () => {
    const chars = new Set(Array.from({ length: 100 }, () => randomSessionIds.newSessionId()).join(''))
    expect(chars.size).toBe(16)
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
