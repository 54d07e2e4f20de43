/**
 * The cache of verified tokens of the JWKS verifier: bounded (least recently used dropped first), an entry answers
 * only for the key set that verified it and only until the token's exp + 30 s, and refusals are never kept.
 */
import { describe, expect, it } from 'vitest'
import { verifiedTokenCache } from '../../../adapters/crypto/verified-token-cache.js'

const NOW = 1_800_000_000
const ok = (exp: number | string) => ({ ok: true as const, payload: { exp } })

describe('verifiedTokenCache', () => {
  it('never holds more than its bound, and drops the least recently used first', () => {
    const cache = verifiedTokenCache<'set'>(100)
    for (let i = 0; i < 1000; i++) {
      cache.set(`t${i}`, 'set', ok(NOW + 60), NOW)
      if (i >= 1) expect(cache.get('t0', 'set', NOW), `t0 kept in use at ${i}`).toBeDefined()
      expect(cache.size).toBeLessThanOrEqual(100)
    }
    expect(cache.get('t1', 'set', NOW)).toBeUndefined()
    expect(cache.get('t999', 'set', NOW)).toEqual(ok(NOW + 60))
  })

  it('answers only for the key set that verified the token (a new fetch, which may withdraw keys, starts afresh)', () => {
    const first = {}
    const second = {}
    const cache = verifiedTokenCache<object>(10)
    cache.set('t', first, ok(NOW + 60), NOW)
    expect(cache.get('t', first, NOW)).toBeDefined()
    expect(cache.get('t', second, NOW)).toBeUndefined()
    expect(cache.get('t', first, NOW)).toBeUndefined()
  })

  it('answers until exp + 30 s, with number or string exp, and keeps nothing expired, unreadable or refused', () => {
    const cache = verifiedTokenCache<'set'>(10)
    cache.set('n', 'set', ok(NOW + 60), NOW)
    cache.set('s', 'set', ok(String(NOW + 60)), NOW)
    expect(cache.get('n', 'set', NOW + 89)).toBeDefined()
    expect(cache.get('s', 'set', NOW + 89)).toBeDefined()
    expect(cache.get('n', 'set', NOW + 90)).toBeUndefined()
    expect(cache.get('s', 'set', NOW + 90)).toBeUndefined()
    cache.set('old', 'set', ok(NOW - 30), NOW)
    cache.set('no-exp', 'set', { ok: true, payload: { iat: NOW } }, NOW)
    cache.set('refused', 'set', { ok: false, reason: 'the token signature is not valid' }, NOW)
    expect(cache.size).toBe(0)
  })

  it('answers no later than notAfter (the last second of the key that verified the token)', () => {
    const cache = verifiedTokenCache<'set'>(10)
    cache.set('t', 'set', ok(NOW + 7200), NOW, NOW + 100)
    expect(cache.get('t', 'set', NOW + 99)).toBeDefined()
    expect(cache.get('t', 'set', NOW + 100)).toBeUndefined()
    cache.set('late', 'set', ok(NOW + 7200), NOW, NOW)
    expect(cache.size).toBe(0)
  })

  it('keeps nothing when its bound is 0', () => {
    const cache = verifiedTokenCache<'set'>(0)
    cache.set('t', 'set', ok(NOW + 60), NOW)
    expect(cache.get('t', 'set', NOW)).toBeUndefined()
  })
})
