// Tests core/release.ts: parse/format round-trip, rejection of malformed release strings with a clear message,
// compareRelease as a total order agreeing with numeric tuple comparison, and releaseOffer at the SPEC 2 boundaries.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { compareRelease, DEFAULT_RELEASE, formatRelease, parseRelease, releaseOffer, type Release } from '../../core/release.js'

const component = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 999_999 }))
const release: fc.Arbitrary<Release> = fc.record({ major: component, minor: component, patch: component }, { noNullPrototype: true })

/** Independent well-formedness check: R, then three dot-separated decimal numbers without leading zeros. */
const wellFormed = (s: string): boolean => {
  if (!s.startsWith('R')) return false
  const parts = s.slice(1).split('.')
  return parts.length === 3 && parts.every((p) => p.length >= 1 && p.length <= 6 && [...p].every((c) => c >= '0' && c <= '9') && (p === '0' || p[0] !== '0'))
}

/** Lexicographic comparison of (major, minor, patch). */
const tupleCompare = (a: Release, b: Release): number => {
  const x = [a.major, a.minor, a.patch]
  const y = [b.major, b.minor, b.patch]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1
  return 0
}

const parsed = (s: string): Release => {
  const r = parseRelease(s)
  if (E.isLeft(r)) throw new Error(r.left)
  return r.right
}

describe('parseRelease / formatRelease', () => {
  it('round-trips every release through its text', () => {
    fc.assert(
      fc.property(release, (r) => {
        expect(parseRelease(formatRelease(r))).toStrictEqual(E.right(r))
      }),
      { numRuns: 2000 },
    )
  })

  it('round-trips every well-formed text through a release', () => {
    fc.assert(
      fc.property(release, (r) => {
        const s = `R${r.major}.${r.minor}.${r.patch}`
        expect(formatRelease(parsed(s))).toBe(s)
      }),
      { numRuns: 1000 },
    )
  })

  it('accepts exactly the well-formed strings, and says why it rejects the others', () => {
    const nearlyARelease = fc
      .array(fc.constantFrom('R', 'r', '.', '0', '1', '5', '6', '9', ' ', '-', 'x', '+'), { maxLength: 12 })
      .map((cs) => cs.join(''))
    const text = fc.oneof(nearlyARelease, fc.string({ maxLength: 12 }), release.map(formatRelease))
    fc.assert(
      fc.property(text, (s) => {
        const r = parseRelease(s)
        expect(E.isRight(r)).toBe(wellFormed(s))
        if (E.isLeft(r)) {
          expect(r.left).toContain(s)
          expect(r.left).toContain('R<major>.<minor>.<patch>')
        }
      }),
      { numRuns: 3000 },
    )
  })

  it.each(['', 'R16.2', 'R16.2.0.1', 'r16.2.0', '16.2.0', ' R16.2.0', 'R16.2.0 ', 'R016.2.0', 'R16.02.0', 'R-1.0.0', 'R1e3.0.0', 'R16.2.x', 'R16..0', 'R1234567.0.0'])(
    'rejects %j',
    (s) => {
      expect(E.isLeft(parseRelease(s))).toBe(true)
    },
  )
})

describe('compareRelease', () => {
  it('agrees with numeric tuple comparison (so R16.10.0 > R16.9.0)', () => {
    fc.assert(
      fc.property(release, release, (a, b) => {
        expect(compareRelease(a, b)).toBe(tupleCompare(a, b))
      }),
      { numRuns: 3000 },
    )
    expect(compareRelease(parsed('R16.10.0'), parsed('R16.9.0'))).toBe(1)
  })

  it('is a total order: reflexive, antisymmetric, transitive, total', () => {
    fc.assert(
      fc.property(release, release, release, (a, b, c) => {
        expect(compareRelease(a, { ...a })).toBe(0)
        expect([-1, 0, 1]).toContain(compareRelease(a, b))
        expect(compareRelease(a, b)).toBe(-compareRelease(b, a) || 0)
        if (compareRelease(a, b) <= 0 && compareRelease(b, a) <= 0) expect(a).toStrictEqual(b)
        if (compareRelease(a, b) <= 0 && compareRelease(b, c) <= 0) expect(compareRelease(a, c)).toBeLessThanOrEqual(0)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('releaseOffer', () => {
  it.each([
    ['R1.0.0', false, false],
    ['R14.9.9', false, false],
    ['R14.999999.999999', false, false],
    ['R15.0.0', true, false],
    ['R15.0.1', true, false],
    ['R16.1.0', true, false],
    ['R16.1.99', true, false],
    ['R16.1.999999', true, false],
    ['R16.2.0', true, true],
    ['R16.2.1', true, true],
    ['R16.10.0', true, true],
    ['R17.3.1', true, true],
    ['R100.0.0', true, true],
  ])('%s: method available %s, jwt/organisation/keyless %s', (s, methodAvailable, identityJwt) => {
    expect(releaseOffer(parsed(s))).toStrictEqual({ methodAvailable, identityJwt })
  })

  it('offers the method from R15.0.0 and the R16.2.0 shape from R16.2.0, for every release', () => {
    fc.assert(
      fc.property(fc.record({ major: fc.integer({ min: 13, max: 18 }), minor: component, patch: component }), (r) => {
        const offer = releaseOffer(r)
        expect(offer.methodAvailable).toBe(tupleCompare(r, { major: 15, minor: 0, patch: 0 }) >= 0)
        expect(offer.identityJwt).toBe(tupleCompare(r, { major: 16, minor: 2, patch: 0 }) >= 0)
      }),
      { numRuns: 2000 },
    )
  })

  it('defaults to R16.2.0', () => {
    expect(formatRelease(DEFAULT_RELEASE)).toBe('R16.2.0')
  })
})
