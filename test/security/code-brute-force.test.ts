/**
 * Guessing authentication codes, over real HTTP (SPEC 4): with a key, failures count against the key (threshold
 * lowered to 5 with --lockout-key 5), which then refuses every mode with that key, the right code included, while
 * keyless logins from the same address go on; without a key, failures count against the client address (default
 * 20), which then refuses keyless codes and identity JWTs from it, while the key modes go on. Both end when the
 * window has passed. Lock-outs are audited with the subject that was locked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countScrypt, login, outcome, startSecuredService, withCode, withPassCode, type SecuredService } from './support.js'
import { EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, exampleDocument } from '../support/example.js'

const WINDOW = 900

describe('authentication-code guessing', () => {
  let s: SecuredService
  const scrypt = countScrypt()
  beforeAll(async () => {
    s = await startSecuredService({ flags: { 'lockout-key': '5' } })
    await s.import(exampleDocument())
  })
  afterAll(async () => {
    scrypt.restore()
    await s?.stop()
  })

  it('with one key: 5 wrong codes lock the key for every mode; keyless logins go on; the window ends it', async () => {
    const start = s.clock.now
    for (let i = 0; i < 5; i++) {
      const r = await login(s.url, withCode(`guess-${i}`), EXAMPLE_KEY)
      expect([r.status, outcome(r)]).toEqual([401, 'INVALIDACCESSTOKEN'])
    }
    const right = await login(s.url, withCode(EXAMPLE_CODE), EXAMPLE_KEY)
    expect([right.status, outcome(right)]).toEqual([429, 'TOOMANYATTEMPTS'])
    expect(right.headers['retry-after']).toBe(String(WINDOW))
    // The pass-code mode with the locked key is refused before any pass code is verified.
    scrypt.reset()
    expect(outcome(await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY))).toBe('TOOMANYATTEMPTS')
    expect(scrypt.count()).toBe(0)
    // Key failures are not counted against the address: the code without the key still logs in.
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE)))).toBe('OK')

    s.clock.now = start + WINDOW
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), EXAMPLE_KEY))).toBe('OK')
    const lockouts = (await s.audit()).filter((e) => e.type === 'locked_out')
    expect(lockouts).toEqual([{ type: 'locked_out', at: start, subject: { kind: 'key', id: s.digest.digest(EXAMPLE_KEY) }, clientAddress: expect.any(String) }])
  })

  it('without a key: 20 wrong codes lock the client address for keyless codes and identity JWTs; the key modes go on', async () => {
    const start = s.clock.now
    for (let i = 0; i < 20; i++) expect(outcome(await login(s.url, withCode(`keyless-guess-${i}`)))).toBe('INVALIDACCESSTOKEN')
    const right = await login(s.url, withCode(EXAMPLE_CODE))
    expect([right.status, outcome(right)]).toEqual([429, 'TOOMANYATTEMPTS'])
    expect(right.headers['retry-after']).toBe(String(WINDOW))
    expect(outcome(await login(s.url, { jwt: 'a.b.c', organisation: 'ps_dev' }))).toBe('TOOMANYATTEMPTS')
    // The key is its own subject (and keyless failures did not count against it).
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), EXAMPLE_KEY))).toBe('OK')

    s.clock.advance(WINDOW - 1)
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE)))).toBe('TOOMANYATTEMPTS')
    s.clock.advance(1)
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE)))).toBe('OK')
    const lockouts = (await s.audit()).filter((e) => e.type === 'locked_out' && e.subject.kind === 'address')
    expect(lockouts).toMatchObject([{ at: start, subject: { kind: 'address', id: expect.stringMatching(/127\.0\.0\.1$/) } }])
  })
})
