/**
 * Properties of core/lockout.ts: the claim never lets a window count past its limit and refuses exactly at it; a
 * burst of concurrent claims through the limiter is granted exactly the attempts left, for each kind of subject;
 * a refused sibling claim is given back; successes reset an identifier and give a key or address claim back; and
 * subject ids and counter keys are unambiguous.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import {
  addressSubject, afterClaim, attemptLimiter, counterClaim, counterKey, defaultLockoutPolicy, identifierSubject, keySubject,
  retryAfterSeconds, type AttemptCount, type LockoutPolicy, type SubjectKind,
} from '../../core/index.js'

const NOW = 1_800_000_000
const W = defaultLockoutPolicy.windowSeconds
const kinds: ReadonlyArray<SubjectKind> = ['identifier', 'key', 'address']
const subjectOf = (kind: SubjectKind, id: string) =>
  kind === 'identifier' ? identifierSubject('ps_dev', id) : kind === 'key' ? keySubject(id) : addressSubject(id)

describe('afterClaim', () => {
  it('counts up to the limit within a window, refuses at it, and starts again once the window is over', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 3 * W }), { maxLength: 80 }), (limit, steps) => {
        let count: AttemptCount | undefined
        let now = NOW
        for (const step of steps) {
          now += step % 7 === 0 ? step : 0
          const claim = { now, staleAtOrBefore: now - W, limit }
          const next = afterClaim(count, claim)
          const current = count !== undefined && count.windowStart > now - W
          if (current && count!.failures >= limit) expect(next).toBeUndefined()
          else expect(next).toEqual(current ? { failures: count!.failures + 1, windowStart: count!.windowStart } : { failures: 1, windowStart: now })
          if (next) expect(next.failures).toBeLessThanOrEqual(limit)
          count = next ?? count
        }
      }),
    )
  })

  it('the wait of a refused claim is the rest of its window, at least a second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * W }), (elapsed) => {
        const wait = retryAfterSeconds(NOW, NOW + elapsed, W)
        expect(wait).toBe(Math.max(1, W - elapsed))
      }),
    )
  })
})

describe('attemptLimiter over the memory store', () => {
  const policy = (threshold: number): LockoutPolicy => ({ windowSeconds: W, thresholds: { identifier: threshold, key: threshold, address: threshold } })

  it('a burst of n concurrent claims on a subject with k attempts left is granted exactly min(n, k)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...kinds), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 200 }), async (kind, threshold, used, n) => {
        const store = new MemoryStore()
        const limiter = attemptLimiter(store, policy(threshold))
        const subject = subjectOf(kind, 's')
        for (let i = 0; i < Math.min(used, threshold); i++) await limiter.claim([subject], NOW)
        const left = threshold - Math.min(used, threshold)
        const outcomes = await Promise.all(Array.from({ length: n }, () => limiter.claim([subject], NOW + 1)))
        expect(outcomes.filter((o) => o.granted !== undefined)).toHaveLength(Math.min(n, left))
        for (const o of outcomes) if (o.granted === undefined) expect(o.refusedFor).toBe(used > 0 ? W - 1 : W)
        // The one that reaches the threshold is told so, once.
        const reaching = outcomes.flatMap((o) => o.granted ?? []).filter((c) => c.reachesThreshold)
        expect(reaching).toHaveLength(left > 0 && n >= left ? 1 : 0)
      }),
      { numRuns: 60 },
    )
  })

  it('an attempt refused on one subject gives its other claims back', async () => {
    const store = new MemoryStore()
    const limiter = attemptLimiter(store, policy(2))
    const identifier = identifierSubject('ps_dev', 'maria')
    const key = keySubject('digest-1')
    for (let i = 0; i < 2; i++) await limiter.claim([identifier], NOW)
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => limiter.claim([key, identifier], NOW)))
    expect(outcomes.every((o) => o.granted === undefined)).toBe(true)
    expect(await store.getAttempts(counterKey(key))).toBeUndefined()
  })

  it('success resets an identifier and gives a key or address claim back', async () => {
    const store = new MemoryStore()
    const limiter = attemptLimiter(store, policy(5))
    const [identifier, key, address] = [identifierSubject('ps_dev', 'maria'), keySubject('digest-1'), addressSubject('203.0.113.7')]
    for (let i = 0; i < 3; i++) await limiter.claim([identifier, key, address], NOW)
    const outcome = await limiter.claim([identifier, key, address], NOW)
    await limiter.succeeded(outcome.granted!)
    expect(await store.getAttempts(counterKey(identifier))).toBeUndefined()
    expect((await store.getAttempts(counterKey(key)))?.failures).toBe(3)
    expect((await store.getAttempts(counterKey(address)))?.failures).toBe(3)
  })
})

describe('subjects', () => {
  it('identifier subjects are one-to-one with (organisation, identifier) pairs', () => {
    const text = fc.string({ unit: fc.constantFrom('x', 'y', '/', '%', '2', 'F', ':', 'é') })
    fc.assert(
      fc.property(text, text, text, text, (o1, i1, o2, i2) => {
        const same = identifierSubject(o1, i1).id === identifierSubject(o2, i2).id
        expect(same).toBe(o1 === o2 && i1 === i2)
      }),
      { numRuns: 2000 },
    )
    expect(identifierSubject('x/y', 'z').id).not.toBe(identifierSubject('x', 'y/z').id)
    expect(identifierSubject('ps_dev', 'maria').id).toBe('ps_dev/maria')
  })

  it('counter keys are one-to-one with subjects', () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.constantFrom(...kinds), fc.string(), fc.string(), (k1, k2, id1, id2) => {
        expect(counterKey({ kind: k1, id: id1 }) === counterKey({ kind: k2, id: id2 })).toBe(k1 === k2 && id1 === id2)
      }),
    )
  })

  it('a counter claim carries the kind threshold and the window arithmetic once', () => {
    expect(counterClaim(defaultLockoutPolicy, 'key', NOW)).toEqual({ now: NOW, staleAtOrBefore: NOW - W, limit: 100 })
  })
})
