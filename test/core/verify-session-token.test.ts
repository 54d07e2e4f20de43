// Tests the verify-session-token use case (SPEC 6) with a fake session verifier: a valid token gives the session;
// expiry with at most 30 s tolerance, future iat, verifier refusals, bad input and revoked sessions give INVALIDTOKEN.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  buildClaims, newSession, verifySessionToken, type ConsumerSession, type RevocationCheck, type SessionVerifier,
} from '../../core/index.js'
import { testClock } from '../support/doubles.js'

const T0 = 1_800_000_000
const session: ConsumerSession = newSession(
  { contactInformationId: 'CII1', accountsReceivableId: 'ARI1', username: 'maytemplate', organisation: 'ps_dev' },
  '1',
  T0,
  'F586B288048A4100B749E62F47DFC844',
)

/** Accepts `signed:<json payload>`, refuses anything else; counts its calls. */
const fakeVerifier = () => {
  const calls: string[] = []
  const verifier: SessionVerifier = {
    verify: async (token) => {
      calls.push(token)
      return token.startsWith('signed:') ? { ok: true, payload: JSON.parse(token.slice('signed:'.length)) } : { ok: false, reason: 'the signature does not verify' }
    },
  }
  return { verifier, calls }
}

const tokenOf = (payload: unknown) => `signed:${JSON.stringify(payload)}`
const TOKEN = tokenOf(buildClaims(session))

const setup = (now: number, revocation?: RevocationCheck) => {
  const { verifier, calls } = fakeVerifier()
  const verify = verifySessionToken({ verifier, clock: testClock(now), ...(revocation ? { revocation } : {}) })
  return { verify: (token: unknown) => verify(token)(), calls }
}

const expectInvalid = (r: E.Either<{ name: string; parameters: ReadonlyArray<string> }, unknown>) => {
  expect(E.isLeft(r) && r.left.name).toBe('INVALIDTOKEN')
  expect(E.isLeft(r) && r.left.parameters).toEqual(['token'])
}

describe('verifySessionToken', () => {
  it('answers the session of a valid token, with number or string times', async () => {
    const { verify } = setup(T0 + 60)
    expect(await verify(TOKEN)).toStrictEqual(E.right(session))
    expect(await verify(tokenOf(buildClaims(session, 'string')))).toStrictEqual(E.right(session))
  })

  it.each([
    ['at issue', T0, true],
    ['at expiry', T0 + 7200, true],
    ['29 s after expiry (tolerance)', T0 + 7200 + 29, true],
    ['30 s after expiry', T0 + 7200 + 30, false],
    ['a day after expiry', T0 + 7200 + 86_400, false],
  ])('expiry: %s', async (_what, now, valid) => {
    const r = await setup(now).verify(TOKEN)
    if (valid) expect(r).toStrictEqual(E.right(session))
    else expectInvalid(r)
  })

  it.each([
    ['30 s ahead (tolerated skew)', T0 - 30, true],
    ['31 s ahead', T0 - 31, false],
    ['an hour ahead', T0 - 3600, false],
  ])('an iat in the future: %s', async (_what, now, valid) => {
    const r = await setup(now).verify(TOKEN)
    if (valid) expect(E.isRight(r)).toBe(true)
    else expectInvalid(r)
  })

  it('refuses a token the verifier refuses', async () => {
    const { verify, calls } = setup(T0)
    const r = await verify('eyJhbGciOiJub25lIn0.e30.')
    expectInvalid(r)
    expect(E.isLeft(r) && r.left.message).toContain('the signature does not verify')
    expect(calls).toHaveLength(1)
  })

  it('refuses a verified payload whose claims have the wrong shape', async () => {
    const { verify } = setup(T0)
    expectInvalid(await verify(tokenOf({ ...buildClaims(session), jti: 'not-a-session-id' })))
    expectInvalid(await verify(tokenOf({ ...buildClaims(session), exp: T0 + 86_400 })))
    expectInvalid(await verify(tokenOf(['not', 'an', 'object'])))
    const extra = await verify(tokenOf({ ...buildClaims(session), nbf: T0 }))
    expectInvalid(extra)
    expect(E.isLeft(extra) && extra.left.message).toMatch(/exactly the claims cii, usr, org, ari, oun, iat, exp, jti/)
  })

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { token: TOKEN }],
    ['an empty string', ''],
    ['a string of 4097 characters', 'x'.repeat(4097)],
  ])('refuses %s without calling the verifier', async (_what, token) => {
    const { verify, calls } = setup(T0)
    expectInvalid(await verify(token))
    expect(calls).toHaveLength(0)
  })

  it('passes a token of 4096 characters on to the verifier', async () => {
    const { verify, calls } = setup(T0)
    expectInvalid(await verify('x'.repeat(4096)))
    expect(calls).toHaveLength(1)
  })

  it('asks the revocation check, when there is one, with the session id and now', async () => {
    const asked: Array<[string, number]> = []
    const check = (revoked: boolean): RevocationCheck => ({
      isRevoked: async (sessionId, now) => {
        asked.push([sessionId, now])
        return revoked
      },
    })
    expect(await setup(T0 + 5, check(false)).verify(TOKEN)).toStrictEqual(E.right(session))
    expectInvalid(await setup(T0 + 5, check(true)).verify(TOKEN))
    expect(asked).toEqual([
      [session.sessionId, T0 + 5],
      [session.sessionId, T0 + 5],
    ])
  })

  it('does not ask the revocation check about an expired token', async () => {
    let asked = 0
    const r = await setup(T0 + 7200 + 30, { isRevoked: async () => (asked++, false) }).verify(TOKEN)
    expectInvalid(r)
    expect(asked).toBe(0)
  })
})
