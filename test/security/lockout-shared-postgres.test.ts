/**
 * Lock-out counts live in the store (SPEC 4): two service instances on one PostgreSQL schema (same secrets, same
 * test clock) share them, so failures spread over instance A and instance B lock the identifier out on both, the
 * lock-out is audited once, and both let the right pass code in once the window has passed.
 * Needs PostgreSQL (test/support/postgres.ts): skipped loudly when it is unreachable, failed when CI is set.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { describeWithPostgres, withPostgresSchema, type PostgresSchema } from '../support/postgres.js'
import { login, outcome, startSecuredService, withPassCode, type SecuredService } from './support.js'
import { testClock } from '../support/doubles.js'
import { EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, exampleDocument } from '../support/example.js'

await describeWithPostgres('lock-out shared by two instances on one PostgreSQL database', () => {
  let pg: PostgresSchema
  let a: SecuredService
  let b: SecuredService
  const clock = testClock()
  beforeAll(async () => {
    pg = await withPostgresSchema()
    const secrets = await generateSecrets()
    a = await startSecuredService({ db: pg.database, secrets, clock })
    b = await startSecuredService({ db: pg.database, secrets, clock })
    await a.import(exampleDocument())
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await pg?.drop()
  })

  it('failures through A and B add up; the identifier is locked on both; both let it in after the window', async () => {
    const start = clock.now
    // 5 failures, alternating A, B, A, B, A.
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? a : b
      expect(outcome(await login(via.url, withPassCode(EXAMPLE_IDENTIFIER, `wrong-${i}`), EXAMPLE_KEY))).toBe('INVALIDACCESSTOKEN')
    }
    for (const via of [b, a]) {
      const r = await login(via.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY)
      expect(r.status, r.text).toBe(429)
      expect(outcome(r)).toBe('TOOMANYATTEMPTS')
      expect(r.headers['retry-after']).toBe('900')
    }
    // One counter row in the shared database: the five failures, in A's window. The two refused attempts are not
    // counted: a claim at the threshold is refused and writes nothing (core/lockout.ts afterClaim).
    const row = await b.store.getAttempts(`identifier:ps_dev/${EXAMPLE_IDENTIFIER}`)
    expect(row?.windowStart).toBe(start)
    expect(row?.failures).toBe(5)

    clock.advance(900)
    const r = await login(b.url, withPassCode(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE), EXAMPLE_KEY)
    expect(r.status, r.text).toBe(200)
    // The success through B reset the count that A sees.
    expect(await a.store.getAttempts(`identifier:ps_dev/${EXAMPLE_IDENTIFIER}`)).toBeUndefined()
  })

  it('the threshold holds for concurrent attempts spread over both instances (atomic counting in the store)', async () => {
    const identifier = 'concurrent'
    // A second identifier token for this test, imported through B.
    await b.import({
      access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: exampleDocument().consumers[0]!.accounts_receivable_id, identifier, pass_code: 'right-one', state: 'EFFECTIVE' }],
    })
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => login((i % 2 === 0 ? a : b).url, withPassCode(identifier, `wrong-${i}`), EXAMPLE_KEY)),
    )
    // Six concurrent wrong pass codes over two instances: exactly five were checked, the sixth refused unchecked.
    expect(results.map(outcome).sort()).toEqual([...Array(5).fill('INVALIDACCESSTOKEN'), 'TOOMANYATTEMPTS'])
    expect(outcome(await login(b.url, withPassCode(identifier, 'right-one'), EXAMPLE_KEY))).toBe('TOOMANYATTEMPTS')
    const lockouts = (await a.audit()).filter((e) => e.type === 'locked_out' && e.subject.id === `ps_dev/${identifier}`)
    expect(lockouts).toHaveLength(1)
  })
})
