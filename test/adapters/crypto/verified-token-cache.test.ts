/**
 * The cache of verified tokens (JWKS verifier, key ring): bounded (entries not used for longest dropped first), an entry answers
 * only for the key set that verified it and only until the token's exp + 30 s, and refusals are never kept.
 */
import { describe, expect, it } from 'vitest'
import { verifiedTokenCache } from '../../../adapters/crypto/verified-token-cache.js'

const NOW = 1_800_000_000
const ok = (exp: number | string) => ({ ok: true as const, payload: { exp } })

describe('verifiedTokenCache', () => {
  it('never holds more than its bound, and drops the entries not used for longest first', () => {
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

describe('verifiedTokenCache under churn', () => {
  it('a hit costs about a Map look-up, also on a full cache of 10 000 tokens being replaced', () => {
    const cache = verifiedTokenCache<'set'>(10_000)
    const tokens = Array.from({ length: 30_000 }, (_, i) => `token-${i}-${'x'.repeat(300)}`)
    for (const t of tokens) cache.set(t, 'set', ok(NOW + 60), NOW)
    const hot = tokens[tokens.length - 1]!
    let hits = 0
    const started = performance.now()
    for (let i = 0; i < 100_000; i++) {
      if (cache.get(hot, 'set', NOW) !== undefined) hits++
      // Others keep arriving, as new sessions do.
      if (i % 10 === 0) cache.set(`new-${i}`, 'set', ok(NOW + 60), NOW)
    }
    const elapsed = performance.now() - started
    expect(hits).toBe(100_000)
    // 100 000 hits and 10 000 inserts take milliseconds; the delete-and-set LRU took 2.5 to 5 s here.
    expect(elapsed).toBeLessThan(1500)
    expect(cache.size).toBeLessThanOrEqual(10_000)
  })
})
