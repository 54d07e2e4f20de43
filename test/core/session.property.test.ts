// Tests core/session.ts: a session lives exactly 7200 s, its claims carry the session id unchanged, claims parse
// back to the same session with JSON-number and string times, and payloads of the wrong shape are INVALIDTOKEN.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { buildClaims, newSession, parseClaims, type ClaimTimes, type SessionSubject } from '../../core/session.js'
import { EXAMPLE_CLAIMS, EXAMPLE_SUBJECT, EXAMPLE_UNIT } from '../support/example.js'

/** Claim text: non-blank, at most 512 characters. */
const text = fc
  .tuple(fc.string({ maxLength: 20, unit: 'binary' }), fc.constantFrom('a', 'Z', '1', 'é', '_', '-'), fc.string({ maxLength: 20 }))
  .map(([a, c, b]) => a + c + b)
const subject: fc.Arbitrary<SessionSubject> = fc.record({
  contactInformationId: text,
  accountsReceivableId: text,
  username: text,
  organisation: text,
})
const HEX = '0123456789ABCDEF'
const sessionId = fc.array(fc.constantFrom(...HEX), { minLength: 32, maxLength: 32 }).map((a) => a.join(''))
/** Seconds since the epoch: today's range, and far enough out that 15-digit string times still hold them. */
const now = fc.oneof(fc.integer({ min: 0, max: 4_000_000_000 }), fc.bigInt({ min: 0n, max: 999_999_999_990_000n }).map(Number))
const times = fc.constantFrom<ClaimTimes>('number', 'string')

const session = fc.tuple(subject, text, now, sessionId).map(([s, unit, at, id]) => newSession(s, unit, at, id))

const isInvalidToken = (u: unknown) => {
  const r = parseClaims(u)
  expect(E.isLeft(r) && r.left.name).toBe('INVALIDTOKEN')
  expect(E.isLeft(r) && r.left.parameters).toEqual(['token'])
}

describe('session claims', () => {
  it('always expire 7200 s after they are issued, and carry the session id and subject unchanged', () => {
    fc.assert(
      fc.property(subject, text, now, sessionId, times, (s, unit, at, id, t) => {
        const session = newSession(s, unit, at, id)
        expect(session.expiresAt - session.issuedAt).toBe(7200)
        expect(session.issuedAt).toBe(at)
        const claims = buildClaims(session, t)
        expect(Object.keys(claims).sort()).toEqual(['ari', 'cii', 'exp', 'iat', 'jti', 'org', 'oun', 'usr'])
        expect(typeof claims.iat).toBe(t)
        expect(typeof claims.exp).toBe(t)
        expect(Number(claims.exp) - Number(claims.iat)).toBe(7200)
        expect(claims).toMatchObject({ jti: id, cii: s.contactInformationId, ari: s.accountsReceivableId, usr: s.username, org: s.organisation, oun: unit })
      }),
      { numRuns: 2000 },
    )
  })

  it('emits numbers by default', () => {
    const claims = buildClaims(newSession({ contactInformationId: 'c', accountsReceivableId: 'a', username: 'u', organisation: 'o' }, '1', 1518097664, 'F586B288048A4100B749E62F47DFC844'))
    expect(claims.iat).toBe(1518097664)
    expect(claims.exp).toBe(1518104864)
  })

  it('parse back to the same session, with number and string times (through JSON)', () => {
    fc.assert(
      fc.property(session, times, (s, t) => {
        expect(parseClaims(buildClaims(s, t))).toStrictEqual(E.right(s))
        expect(parseClaims(JSON.parse(JSON.stringify(buildClaims(s, t))))).toStrictEqual(E.right(s))
      }),
      { numRuns: 2000 },
    )
  })

  it('parses the documented example payload (string times)', () => {
    expect(parseClaims(EXAMPLE_CLAIMS)).toStrictEqual(
      E.right({ ...EXAMPLE_SUBJECT, unit: EXAMPLE_UNIT, sessionId: 'F586B288048A4100B749E62F47DFC844', issuedAt: 1518097664, expiresAt: 1518104864 }),
    )
  })
})

describe('parseClaims rejects wrong shapes with INVALIDTOKEN', () => {
  const CLAIMS = ['cii', 'usr', 'org', 'ari', 'oun', 'iat', 'exp', 'jti'] as const

  it('a missing claim', () => {
    fc.assert(
      fc.property(session, times, fc.constantFrom(...CLAIMS), (s, t, drop) => {
        const { [drop]: _dropped, ...rest } = buildClaims(s, t)
        isInvalidToken(rest)
      }),
      { numRuns: 1000 },
    )
  })

  it('any claim beyond the eight, whatever its name or value (also __proto__ and names differing only in case)', () => {
    const extraName = fc.oneof(
      fc.string({ minLength: 1, maxLength: 12 }).filter((n) => !(CLAIMS as ReadonlyArray<string>).includes(n)),
      fc.constantFrom('nbf', 'aud', 'iss', 'sub', 'kid', 'CII', 'Exp', 'jti ', '__proto__', 'constructor'),
    )
    fc.assert(
      fc.property(session, times, extraName, fc.jsonValue({ maxDepth: 1 }), (s, t, name, v) => {
        // Through JSON.parse, as a verified payload arrives: `__proto__` is then an own property, not a prototype.
        const claims = JSON.parse(JSON.stringify(buildClaims(s, t)).replace(/^\{/, () => `{${JSON.stringify(name)}:${JSON.stringify(v ?? null)},`))
        isInvalidToken(claims)
      }),
      { numRuns: 1000 },
    )
  })

  it('a claim of the wrong type or a blank text claim', () => {
    const wrong = fc.oneof(fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant(''), fc.constant('  '), fc.constant('x'.repeat(513)))
    fc.assert(
      fc.property(session, times, fc.constantFrom('cii', 'usr', 'org', 'ari', 'oun', 'jti'), wrong, (s, t, name, v) => {
        isInvalidToken({ ...buildClaims(s, t), [name]: v })
      }),
      { numRuns: 1000 },
    )
  })

  it('a jti that is not 32 upper-case hex characters', () => {
    const badJti = fc.oneof(
      sessionId.map((id) => id.toLowerCase()).filter((id) => /[a-f]/.test(id)),
      sessionId.map((id) => id.slice(1)),
      sessionId.map((id) => id + 'A'),
      fc.tuple(sessionId, fc.integer({ min: 0, max: 31 }), fc.constantFrom('G', 'Z', '-', ' ', 'g')).map(([id, i, c]) => id.slice(0, i) + c + id.slice(i + 1)),
      fc.integer(),
    )
    fc.assert(
      fc.property(session, times, badJti, (s, t, jti) => {
        isInvalidToken({ ...buildClaims(s, t), jti })
      }),
      { numRuns: 1000 },
    )
  })

  it('exp - iat other than 7200', () => {
    fc.assert(
      fc.property(session, times, fc.integer({ min: -7200, max: 100_000 }).filter((d) => d !== 0), (s, t, delta) => {
        const claims = buildClaims(s, 'number')
        const exp = (claims.exp as number) + delta
        isInvalidToken({ ...claims, exp: t === 'string' ? String(exp) : exp })
      }),
      { numRuns: 1000 },
    )
  })

  it.each([
    ['negative', -1],
    ['fractional', 1518097664.5],
    ['non-digit string', '1518097664x'],
    ['signed string', '+1518097664'],
    ['too long string', '1'.repeat(16)],
  ])('a time that is %s', (_what, iat) => {
    const claims = buildClaims(newSession({ contactInformationId: 'c', accountsReceivableId: 'a', username: 'u', organisation: 'o' }, '1', 1518097664, 'F586B288048A4100B749E62F47DFC844'))
    isInvalidToken({ ...claims, iat })
  })

  it('a payload that is not a JSON object', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.integer(), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })), (u) => {
        isInvalidToken(u)
      }),
      { numRuns: 500 },
    )
  })
})
