// Tests the lock-out of the issue-session-token use case (SPEC 4, throttling) with the store-backed attempt limiter:
// five wrong pass codes lock the identifier out until the window passes, a success resets it, lock-outs are audited,
// and keys and client addresses are counted with their own (configurable) thresholds.
import { describe, expect, it } from 'vitest'
import { defaultLockoutPolicy, httpStatusOf, type AuditEvent } from '../../core/index.js'
import { ADDRESS, code, failure, fixture, KEY, ok, pass, REVOKED_KEY, T0 } from './issue-fixture.js'
import { fakeDigest } from '../support/doubles.js'
import { EXAMPLE_CODE } from '../support/example.js'

const WINDOW = 15 * 60

const byType = (events: AuditEvent[], type: AuditEvent['type']) => events.filter((e) => e.type === type)

describe('lock-out per identifier', () => {
  it('after 5 wrong pass codes the right one gets 429 TOOMANYATTEMPTS until the window passes', async () => {
    const f = await fixture()
    for (let i = 0; i < 5; i++) expect(failure(await f.issue(pass('maria', `wrong${i}`), KEY)).name).toBe('INVALIDACCESSTOKEN')
    expect(f.hasher.calls.verify).toBe(5)

    const locked = failure(await f.issue(pass('maria', '4711'), KEY))
    expect(locked.name).toBe('TOOMANYATTEMPTS')
    expect(httpStatusOf(locked.name)).toBe(429)
    expect(locked.retryAfterSeconds).toBe(WINDOW)
    expect(f.hasher.calls.verify).toBe(5) // the credential was not checked

    f.clock.now = T0 + WINDOW - 1
    expect(failure(await f.issue(pass('maria', '4711'), KEY)).retryAfterSeconds).toBe(1)

    f.clock.now = T0 + WINDOW
    expect(ok(await f.issue(pass('maria', '4711'), KEY)).session.issuedAt).toBe(T0 + WINDOW)
  })

  it('audits every failure, the lock-out once, and the refused attempts', async () => {
    const f = await fixture()
    for (let i = 0; i < 5; i++) await f.issue(pass('maria', 'wrong'), KEY)
    await f.issue(pass('maria', '4711'), KEY)
    const events = await f.audit()
    expect(byType(events, 'locked_out')).toStrictEqual([{ type: 'locked_out', at: T0, subject: { kind: 'identifier', id: 'ps_dev/maria' }, clientAddress: ADDRESS }])
    const failed = byType(events, 'failed')
    expect(failed.map((e) => e.type === 'failed' && e.code)).toEqual([...Array(5).fill('INVALIDACCESSTOKEN'), 'TOOMANYATTEMPTS'])
    expect(failed.every((e) => e.type === 'failed' && e.mode === 'IdentifierPassCode' && e.organisation === 'ps_dev')).toBe(true)
    expect(byType(events, 'issued')).toHaveLength(0)
    // Never a secret in the audit.
    expect(JSON.stringify(events)).not.toMatch(new RegExp(`${KEY}|wrong|4711`))
  })

  it('locks out the identifier only: other identifiers and the key still work', async () => {
    const f = await fixture()
    for (let i = 0; i < 5; i++) await f.issue(pass('maria', 'wrong'), KEY)
    expect(failure(await f.issue(pass('maria', '4711'), KEY)).name).toBe('TOOMANYATTEMPTS')
    expect(ok(await f.issue(pass('nikos', '0000'), KEY)).session.username).toBe('maytemplate')
    expect(ok(await f.issue(code(EXAMPLE_CODE), KEY)).mode).toBe('AuthenticationCode')
  })

  it('resets the identifier count on success', async () => {
    const f = await fixture()
    for (let i = 0; i < 4; i++) await f.issue(pass('maria', 'wrong'), KEY)
    ok(await f.issue(pass('maria', '4711'), KEY))
    for (let i = 0; i < 4; i++) await f.issue(pass('maria', 'wrong'), KEY)
    ok(await f.issue(pass('maria', '4711'), KEY))
  })
})

describe('lock-out per key and per client address', () => {
  it('counts failures against the key with its own threshold', async () => {
    const f = await fixture({ policy: { ...defaultLockoutPolicy, thresholds: { ...defaultLockoutPolicy.thresholds, key: 3 } } })
    for (let i = 0; i < 3; i++) expect(failure(await f.issue(code(`bad${i}`), KEY)).name).toBe('INVALIDACCESSTOKEN')
    const e = failure(await f.issue(code(EXAMPLE_CODE), KEY))
    expect(e.name).toBe('TOOMANYATTEMPTS')
    expect(e.retryAfterSeconds).toBe(WINDOW)
    expect(byType(await f.audit(), 'locked_out')).toMatchObject([{ subject: { kind: 'key', id: fakeDigest.digest(KEY) } }])
    // Keyless requests are counted against the address, not the key.
    expect(ok(await f.issue(code(EXAMPLE_CODE))).mode).toBe('AuthenticationCode')
  })

  it('counts keyless failures against the client address (20 by default)', async () => {
    const f = await fixture()
    for (let i = 0; i < 20; i++) expect(failure(await f.issue(code(`guess${i}`))).name).toBe('INVALIDACCESSTOKEN')
    expect(failure(await f.issue(code(EXAMPLE_CODE))).name).toBe('TOOMANYATTEMPTS')
    expect(failure(await f.issue({ jwt: 'jwt-u42', organisation: 'ps_dev' })).name).toBe('TOOMANYATTEMPTS')
    expect(byType(await f.audit(), 'locked_out')).toMatchObject([{ subject: { kind: 'address', id: ADDRESS } }])
    expect(ok(await f.issue(code(EXAMPLE_CODE), undefined, '198.51.100.1')).mode).toBe('AuthenticationCode')
  })

  it('counts nothing for a key that is not a usable key: one read refuses it, no counter row is written', async () => {
    const f = await fixture({ policy: { ...defaultLockoutPolicy, thresholds: { ...defaultLockoutPolicy.thresholds, key: 3 } } })
    const random = (i: number) => `${i}`.padStart(32, 'F')
    for (let i = 0; i < 10; i++) expect(failure(await f.issue(code(EXAMPLE_CODE), random(i % 2))).name).toBe('INVALIDAPPLICATIONKEY')
    for (let i = 0; i < 10; i++) expect(failure(await f.issue(code(EXAMPLE_CODE), REVOKED_KEY)).name).toBe('INVALIDAPPLICATIONKEY')
    expect(await f.store.getAttempts(`key:${fakeDigest.digest(random(0))}`)).toBeUndefined()
    expect(await f.store.getAttempts(`key:${fakeDigest.digest(REVOKED_KEY)}`)).toBeUndefined()
    expect(byType(await f.audit(), 'locked_out')).toEqual([])
    // Each is still audited as a failure: refusals that authenticate nobody share one row per minute and address
    // (docs/security.md, "Storage bounds"), which counts them all and keeps the prefix of the first key tried.
    const failed = (await f.store.listAuditEvents()).filter((r) => r.event.type === 'failed')
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ count: 20, event: { code: 'INVALIDAPPLICATIONKEY', keyPrefix: 'FFFFFF' } })
    // The usable key is counted (and locks) as before.
    for (let i = 0; i < 3; i++) expect(failure(await f.issue(code(`bad${i}`), KEY)).name).toBe('INVALIDACCESSTOKEN')
    expect(failure(await f.issue(code(EXAMPLE_CODE), KEY)).name).toBe('TOOMANYATTEMPTS')
  })

  it('does not count validation errors', async () => {
    const f = await fixture()
    for (let i = 0; i < 30; i++) expect(failure(await f.issue({ access_token_identifier: {} })).name).toBe('MISSINGPARAMETER')
    expect(ok(await f.issue(code(EXAMPLE_CODE))).mode).toBe('AuthenticationCode')
  })
})

describe('lock-out subjects are unambiguous', () => {
  it('organisation x/y with identifier z and organisation x with identifier y/z are counted apart', async () => {
    const f = await fixture()
    for (const organisation of ['x/y', 'x']) {
      await f.store.upsertOrganisation({ id: organisation, name: organisation, consumerUser: 'u' })
      await f.store.upsertUnit({ organisation, id: '1', name: 'Unit' })
      await f.store.upsertUser({ organisation, username: 'u', defaultUnit: '1', units: ['1'] })
      await f.store.upsertKey({ digest: fakeDigest.digest(`key-${organisation}`), prefix: 'key-x', organisation, user: 'u', classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: T0 })
      await f.store.upsertConsumer({ organisation, contactInformationId: 'CII', accountsReceivableId: 'ARI' })
    }
    await f.store.upsertAccessToken({ id: 't-x', organisation: 'x', consumer: { organisation: 'x', contactInformationId: 'CII', accountsReceivableId: 'ARI' }, identifier: 'y/z', passCodeHash: 'hash:1111', state: 'EFFECTIVE' })
    for (let i = 0; i < 5; i++) expect(failure(await f.issue(pass('z', 'wrong'), 'key-x/y')).name).toBe('INVALIDACCESSTOKEN')
    expect(failure(await f.issue(pass('z', 'wrong'), 'key-x/y')).name).toBe('TOOMANYATTEMPTS')
    // The other organisation's identifier has its own count.
    expect(ok(await f.issue(pass('y/z', '1111'), 'key-x')).session.organisation).toBe('x')
    const [locked] = byType(await f.audit(), 'locked_out')
    expect(locked).toMatchObject({ subject: { kind: 'identifier', id: 'x%2Fy/z' } })
  })
})
