/**
 * The identifier threshold holds under concurrency: a burst of wrong pass codes sent at once for one identifier
 * must not all be checked. Checking the lock-out and counting the failure only after the (slow, queued) scrypt
 * verification would let every request of the burst through the check while the count is still 0, so an
 * attacker could try thousands of PINs at once; the attempt is therefore counted (atomically, in the store) before
 * the pass code is verified, and attempts beyond the threshold are refused unchecked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countScrypt, login, outcome, startSecuredService, withPassCode, type SecuredService } from './support.js'
import { EXAMPLE_ARI, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, exampleDocument } from '../support/example.js'

const BURST = 24

describe('identifier lock-out under a concurrent burst', () => {
  let s: SecuredService
  const scrypt = countScrypt()
  beforeAll(async () => {
    // Room in the pass-code queue for the whole burst: this is about the lock-out, not about shedding load.
    s = await startSecuredService({ flags: { 'passcode-queue': '100' } })
    await s.import(exampleDocument())
    scrypt.reset()
  })
  afterAll(async () => {
    scrypt.restore()
    await s?.stop()
  })

  it(`checks at most 5 of ${BURST} wrong pass codes sent at once, refuses the rest with 429`, async () => {
    const results = await Promise.all(Array.from({ length: BURST }, (_, i) => login(s.url, withPassCode(EXAMPLE_IDENTIFIER, String(1000 + i)), EXAMPLE_KEY)))
    const outcomes = results.map(outcome)
    expect(outcomes.filter((o) => o === 'INVALIDACCESSTOKEN')).toHaveLength(5)
    expect(outcomes.filter((o) => o === 'TOOMANYATTEMPTS')).toHaveLength(BURST - 5)
    expect(scrypt.count()).toBe(5)
    for (const r of results.filter((x) => x.status === 429)) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    // Locked: the right pass code is refused unchecked, and the lock-out was audited once.
    expect(outcome(await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY))).toBe('TOOMANYATTEMPTS')
    expect(scrypt.count()).toBe(5)
    const lockouts = (await s.audit()).filter((e) => e.type === 'locked_out')
    expect(lockouts).toMatchObject([{ subject: { kind: 'identifier', id: `ps_dev/${EXAMPLE_IDENTIFIER}` } }])
  })

  it('a burst that contains the right pass code among fewer than 5 wrong ones still logs in and resets the count', async () => {
    await s.import({ access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: EXAMPLE_ARI, identifier: 'nikos', pass_code: '2468', state: 'EFFECTIVE' }] })
    const results = await Promise.all([
      ...['1', '2', '3'].map((p) => login(s.url, withPassCode('nikos', p), EXAMPLE_KEY)),
      login(s.url, withPassCode('nikos', '2468'), EXAMPLE_KEY),
    ])
    expect(results.map(outcome).sort()).toEqual(['INVALIDACCESSTOKEN', 'INVALIDACCESSTOKEN', 'INVALIDACCESSTOKEN', 'OK'])
    // Whatever the order above, at most 3 failures were left in the count: one more wrong one does not lock it.
    expect(outcome(await login(s.url, withPassCode('nikos', 'x'), EXAMPLE_KEY))).toBe('INVALIDACCESSTOKEN')
    expect(outcome(await login(s.url, withPassCode('nikos', '2468'), EXAMPLE_KEY))).toBe('OK')
  })
})
