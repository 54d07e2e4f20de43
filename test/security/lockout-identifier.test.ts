/**
 * Brute force of one identifier's pass code, over real HTTP (SPEC 4, throttling): five wrong pass codes lock the
 * identifier (default threshold 5 in a 15-minute window); while it is locked the right pass code too gets 429
 * TOOMANYATTEMPTS with Retry-After, and no scrypt derivation runs (the credential is not checked); once the window
 * has passed (a test clock moves it) the right pass code logs in and resets the count. Every step is audited.
 * The access token is the SPEC 9 example's `maria`, imported through the real import path into the service's store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countScrypt, login, outcome, startSecuredService, withCode, withPassCode, type SecuredService } from './support.js'
import { EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, EXAMPLE_SESSION_CLAIMS, exampleDocument } from '../support/example.js'
import { decodeJwtPart } from '../support/jwt.js'

const WINDOW = 15 * 60

describe('identifier lock-out over HTTP', () => {
  let s: SecuredService
  const scrypt = countScrypt()
  beforeAll(async () => {
    s = await startSecuredService()
    await s.import(exampleDocument())
    scrypt.reset()
  })
  afterAll(async () => {
    scrypt.restore()
    await s?.stop()
  })

  it('locks the identifier after 5 wrong pass codes, refuses even the right one without checking it, and lets it in after the window', async () => {
    const start = s.clock.now
    for (let i = 1; i <= 5; i++) {
      const r = await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, `wrong-${i}`), EXAMPLE_KEY)
      expect(r.status, r.text).toBe(401)
      expect(outcome(r)).toBe('INVALIDACCESSTOKEN')
    }
    expect(scrypt.count()).toBe(5)

    // The sixth wrong pass code is already refused as locked out.
    const sixth = await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, 'wrong-6'), EXAMPLE_KEY)
    expect(sixth.status, sixth.text).toBe(429)
    expect(outcome(sixth)).toBe('TOOMANYATTEMPTS')
    expect(sixth.headers['retry-after']).toBe(String(WINDOW))

    // The right pass code while locked: 429 with the remaining wait, and no pass-code verification at all.
    s.clock.advance(600)
    const right = await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY)
    expect(right.status, right.text).toBe(429)
    expect(outcome(right)).toBe('TOOMANYATTEMPTS')
    expect(right.headers['retry-after']).toBe(String(WINDOW - 600))
    expect(scrypt.count()).toBe(5)

    // Only the identifier is locked: the same key with the authentication code still works.
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), EXAMPLE_KEY))).toBe('OK')

    // One second before the window ends: still locked.
    s.clock.now = start + WINDOW - 1
    const last = await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY)
    expect(outcome(last)).toBe('TOOMANYATTEMPTS')
    expect(last.headers['retry-after']).toBe('1')
    expect(scrypt.count()).toBe(5)

    // The window has passed: the right pass code logs in (one verification).
    s.clock.now = start + WINDOW
    const ok = await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY)
    expect(ok.status, ok.text).toBe(200)
    expect(decodeJwtPart(ok.json.data.token, 1)).toMatchObject({ ...EXAMPLE_SESSION_CLAIMS, iat: start + WINDOW })
    expect(scrypt.count()).toBe(6)
  })

  it('a success reset the count: four more wrong pass codes do not lock the identifier', async () => {
    for (let i = 0; i < 4; i++) expect(outcome(await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, `again-${i}`), EXAMPLE_KEY))).toBe('INVALIDACCESSTOKEN')
    expect(outcome(await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY))).toBe('OK')
  })

  it('audited the failures, one lock-out of the identifier, the refusals and the sessions', async () => {
    const events = await s.audit()
    const lockouts = events.filter((e) => e.type === 'locked_out')
    expect(lockouts).toEqual([{ type: 'locked_out', at: expect.any(Number), subject: { kind: 'identifier', id: `ps_dev/${EXAMPLE_IDENTIFIER}` }, clientAddress: expect.any(String) }])
    const failed = events.flatMap((e) => (e.type === 'failed' ? [e] : []))
    expect(failed.map((e) => e.code)).toEqual([
      ...Array(5).fill('INVALIDACCESSTOKEN'), ...Array(3).fill('TOOMANYATTEMPTS'), ...Array(4).fill('INVALIDACCESSTOKEN'),
    ])
    expect(failed.every((e) => e.mode === 'IdentifierPassCode' && e.organisation === 'ps_dev' && e.keyPrefix === EXAMPLE_KEY.slice(0, 6))).toBe(true)
    expect(events.filter((e) => e.type === 'issued').map((e) => e.type === 'issued' && e.mode)).toEqual(['AuthenticationCode', 'IdentifierPassCode', 'IdentifierPassCode'])
  })
})
