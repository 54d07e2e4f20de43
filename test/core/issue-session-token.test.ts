// Tests the issue-session-token use case (SPEC 4-5) over a MemoryStore and pure fake ports: every credential mode
// succeeding, every authentication failure that needs no real hashing, units, identity JWTs, and a store that is down.
import { describe, expect, it } from 'vitest'
import { httpStatusOf, keyPrefix, R15_0_0, type AuditEvent } from '../../core/index.js'
import { ADDRESS, C1, C2, C3, claimsOf, code, failure, fixture, KEY, ok, OTHER_KEY, pass, REVOKED_KEY, SYSTEMIC_KEY, T0 } from './issue-fixture.js'
import { fakeDigest } from '../support/doubles.js'
import { EXAMPLE_CODE } from '../support/example.js'

const issuedEvents = (events: AuditEvent[]) => events.filter((e) => e.type === 'issued')
const failedEvents = (events: AuditEvent[]) => events.filter((e) => e.type === 'failed')

describe('each credential mode issues a two-hour session', () => {
  it('AuthenticationCode with key: the documented example', async () => {
    const f = await fixture()
    const t = ok(await f.issue(code(EXAMPLE_CODE, { unit: '1' }), KEY))
    expect(t.mode).toBe('AuthenticationCode')
    expect(t.session).toStrictEqual({
      contactInformationId: C1.contactInformationId, accountsReceivableId: C1.accountsReceivableId, username: 'maytemplate',
      organisation: 'ps_dev', unit: '1', sessionId: '00000000000000000000000000000001', issuedAt: T0, expiresAt: T0 + 7200,
    })
    expect(claimsOf(t)).toStrictEqual({
      cii: C1.contactInformationId, usr: 'maytemplate', org: 'ps_dev', ari: C1.accountsReceivableId, oun: '1', exp: T0 + 7200, iat: T0,
      jti: '00000000000000000000000000000001',
    })
    expect(issuedEvents(await f.audit())).toStrictEqual([
      {
        type: 'issued', at: T0, mode: 'AuthenticationCode', sessionId: t.session.sessionId, organisation: 'ps_dev',
        contactInformationId: C1.contactInformationId, accountsReceivableId: C1.accountsReceivableId, keyPrefix: 'EE73C0',
        keyDigest: fakeDigest.digest(KEY), accessTokenId: 'at-code', expiresAt: T0 + 7200, clientAddress: ADDRESS,
      },
    ])
  })

  it('AuthenticationCode without key (R16.2.0): runs as the organisation consumer user, in its default unit', async () => {
    const f = await fixture()
    const t = ok(await f.issue(code(EXAMPLE_CODE)))
    expect(claimsOf(t)).toMatchObject({ cii: C1.contactInformationId, ari: C1.accountsReceivableId, usr: 'ps_consumer', org: 'ps_dev', oun: '3' })
    expect(t.session.expiresAt - t.session.issuedAt).toBe(7200)
    const [issued] = issuedEvents(await f.audit())
    expect(issued).toMatchObject({ mode: 'AuthenticationCode', accessTokenId: 'at-code' })
    expect(issued).not.toHaveProperty('keyDigest')
  })

  it('IdentifierPassCode: the pass code is verified, the key fixes user and organisation', async () => {
    const f = await fixture()
    const t = ok(await f.issue(pass('maria', '4711'), KEY))
    expect(t.mode).toBe('IdentifierPassCode')
    expect(claimsOf(t)).toMatchObject({ cii: C2.contactInformationId, ari: C2.accountsReceivableId, usr: 'maytemplate', org: 'ps_dev', oun: '1' })
    expect(t.session.expiresAt - t.session.issuedAt).toBe(7200)
    expect(f.hasher.calls).toStrictEqual({ verify: 1, verifyDummy: 0 })
    expect(issuedEvents(await f.audit())).toMatchObject([{ mode: 'IdentifierPassCode', accessTokenId: 'at-maria', keyDigest: fakeDigest.digest(KEY) }])
  })

  it('IdentityJwt: runs as the organisation consumer user, for the linked consumer', async () => {
    const f = await fixture()
    const t = ok(await f.issue({ jwt: 'jwt-u42', organisation: 'ps_dev' }))
    expect(t.mode).toBe('IdentityJwt')
    expect(claimsOf(t)).toMatchObject({ cii: C1.contactInformationId, ari: C1.accountsReceivableId, usr: 'ps_consumer', org: 'ps_dev', oun: '3' })
    expect(t.session.expiresAt - t.session.issuedAt).toBe(7200)
    const [issued] = issuedEvents(await f.audit())
    expect(issued).toMatchObject({ mode: 'IdentityJwt', organisation: 'ps_dev' })
    expect(issued).not.toHaveProperty('accessTokenId')
  })

  it('a release before R16.2.0 issues with key + authentication code', async () => {
    const f = await fixture({ release: R15_0_0 })
    expect(claimsOf(ok(await f.issue(code(EXAMPLE_CODE), KEY)))).toMatchObject({ usr: 'maytemplate', oun: '1' })
  })

  it('claimTimes "string" emits iat and exp as strings, as the documented example does', async () => {
    const f = await fixture({ claimTimes: 'string' })
    expect(claimsOf(ok(await f.issue(code(EXAMPLE_CODE), KEY)))).toMatchObject({ iat: String(T0), exp: String(T0 + 7200) })
  })

  it('with a key, a code that also exists in another organisation is found in the key organisation', async () => {
    const f = await fixture()
    expect(ok(await f.issue(code('code-dup'), KEY)).session.organisation).toBe('ps_dev')
    expect(ok(await f.issue(code('code-dup'), OTHER_KEY)).session).toMatchObject({ organisation: 'other', contactInformationId: C3.contactInformationId })
  })

  it('gives every session a new id', async () => {
    const f = await fixture()
    const a = ok(await f.issue(code(EXAMPLE_CODE), KEY))
    const b = ok(await f.issue(code(EXAMPLE_CODE), KEY))
    expect(a.session.sessionId).not.toBe(b.session.sessionId)
  })
})

describe('the application key', () => {
  it.each([
    ['unknown', 'NOSUCHKEY0000000000000000000000'],
    ['revoked', REVOKED_KEY],
    ['SYSTEMIC_KEY', SYSTEMIC_KEY],
  ])('%s: 401 INVALIDAPPLICATIONKEY, audited', async (_what, key) => {
    const f = await fixture()
    const e = failure(await f.issue(code(EXAMPLE_CODE), key))
    expect(e.name).toBe('INVALIDAPPLICATIONKEY')
    expect(httpStatusOf(e.name)).toBe(401)
    expect(failedEvents(await f.audit())).toMatchObject([{ mode: 'AuthenticationCode', code: 'INVALIDAPPLICATIONKEY', keyPrefix: key.slice(0, 6), clientAddress: ADDRESS }])
  })

  it('audits a key under the prefix it is stored with, also when it begins outside the BMP', async () => {
    const f = await fixture()
    // Six characters are six code points: 'A' and three keys (two UTF-16 units each), then 'BC'; never half of one.
    const key = 'A\u{1F511}\u{1F511}\u{1F511}BCDEFGHIJKLMNOPQRSTUVWXYZ'
    await f.store.upsertKey({ digest: fakeDigest.digest(key), prefix: keyPrefix(key), organisation: 'ps_dev', user: 'maytemplate', classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: T0 })
    ok(await f.issue(code('p_kestora1!'), key))
    failure(await f.issue(code('wrong'), key))
    const [listed] = (await f.store.listKeys('ps_dev')).filter((k) => k.digest === fakeDigest.digest(key))
    expect(listed?.prefix).toBe('A\u{1F511}\u{1F511}\u{1F511}BC')
    expect([...issuedEvents(await f.audit()), ...failedEvents(await f.audit())].map((e) => e.keyPrefix)).toEqual([listed?.prefix, listed?.prefix])
  })

  it('answers one identical message for unknown, revoked and systemic keys, in both keyed modes', async () => {
    const f = await fixture()
    const errors = []
    for (const key of ['NOSUCHKEY0000000000000000000000', REVOKED_KEY, SYSTEMIC_KEY]) {
      errors.push(failure(await f.issue(code(EXAMPLE_CODE), key)))
      errors.push(failure(await f.issue(pass('maria', '4711'), key)))
    }
    expect(new Set(errors.map((e) => `${e.name}|${e.message}|${e.parameters.join()}`)).size).toBe(1)
    expect(f.hasher.calls.verify).toBe(0)
  })
})

describe('the access token', () => {
  const invalid = async (f: Awaited<ReturnType<typeof fixture>>, body: unknown, key?: string) => {
    const e = failure(await f.issue(body, key))
    expect(e.name).toBe('INVALIDACCESSTOKEN')
    expect(httpStatusOf(e.name)).toBe(401)
    return e.message
  }

  it('refuses suspended and cancelled tokens, unknown codes, codes of another organisation, with one message', async () => {
    const f = await fixture()
    const messages = new Set([
      await invalid(f, code('code-suspended'), KEY),
      await invalid(f, code('code-cancelled'), KEY),
      await invalid(f, code('code-suspended')),
      await invalid(f, code('no-such-code'), KEY),
      await invalid(f, code('no-such-code')),
      await invalid(f, code('code-other'), KEY),
      await invalid(f, pass('sleepy', '1234'), KEY),
      await invalid(f, pass('maria', 'wrong'), KEY),
      await invalid(f, pass('nobody', '4711'), KEY),
      await invalid(f, pass('maria', '4711'), OTHER_KEY),
    ])
    expect(messages.size).toBe(1)
    const failed = failedEvents(await f.audit())
    expect(failed).toHaveLength(10)
    expect(failed.every((e) => e.type === 'failed' && e.code === 'INVALIDACCESSTOKEN')).toBe(true)
  })

  it.each([
    ['before validFrom', T0 + 99, false],
    ['at validFrom', T0 + 100, true],
    ['inside the window', T0 + 999, true],
    ['at validTo', T0 + 1000, false],
    ['after validTo', T0 + 5000, false],
  ])('validity window: %s', async (_what, now, usable) => {
    const f = await fixture()
    f.clock.now = now
    const r = await f.issue(code('code-window'), KEY)
    if (usable) expect(ok(r).session.issuedAt).toBe(now)
    else expect(failure(r).name).toBe('INVALIDACCESSTOKEN')
  })

  it('refuses a keyless code that matches in two organisations', async () => {
    const f = await fixture()
    await invalid(f, code('code-dup'))
  })

  it('a keyless code that matches a cancelled or suspended token in another organisation still logs in', async () => {
    const f = await fixture()
    for (const [id, state] of [['at-dead-cancelled', 'CANCELLED'], ['at-dead-suspended', 'SUSPENDED']] as const) {
      await f.store.upsertAccessToken({ id, organisation: 'other', consumer: C3, authenticationCodeDigest: fakeDigest.digest(EXAMPLE_CODE), state })
    }
    expect(ok(await f.issue(code(EXAMPLE_CODE))).session).toMatchObject({ organisation: 'ps_dev', contactInformationId: C1.contactInformationId })
    // Two usable ones are still ambiguous.
    await f.store.upsertAccessToken({ id: 'at-live-other', organisation: 'other', consumer: C3, authenticationCodeDigest: fakeDigest.digest(EXAMPLE_CODE), state: 'EFFECTIVE' })
    await invalid(f, code(EXAMPLE_CODE))
  })

  it('refuses a keyless code whose organisation has no consumer user in the directory', async () => {
    const f = await fixture()
    await invalid(f, code('code-ghost'))
  })

  it('verifies a wrong pass code against its hash', async () => {
    const f = await fixture()
    await invalid(f, pass('maria', '0000'), KEY)
    expect(f.hasher.calls).toStrictEqual({ verify: 1, verifyDummy: 0 })
  })

  it('spends a dummy verification on an unknown identifier, so it costs what a wrong pass code costs', async () => {
    const f = await fixture()
    const unknown = await invalid(f, pass('nobody', '4711'), KEY)
    expect(f.hasher.calls).toStrictEqual({ verify: 0, verifyDummy: 1 })
    const wrong = await invalid(f, pass('maria', '0000'), KEY)
    expect(unknown).toBe(wrong)
  })
})

describe('the unit', () => {
  it('defaults to the user default unit', async () => {
    const f = await fixture()
    expect(ok(await f.issue(code(EXAMPLE_CODE), KEY)).session.unit).toBe('1')
  })

  it('takes a given unit the user belongs to', async () => {
    const f = await fixture()
    expect(ok(await f.issue(pass('maria', '4711', { unit: '2' }), KEY)).session.unit).toBe('2')
  })

  it.each([
    ['a unit of the organisation the key user is not in', '3', KEY],
    ['an unknown unit', '99', KEY],
    ['a unit of the key user but not of the consumer user (keyless)', '1', undefined],
  ])('refuses %s: 403 INVALIDUNIT, audited', async (_what, unit, key) => {
    const f = await fixture()
    const e = failure(await f.issue(code(EXAMPLE_CODE, { unit }), key))
    expect(e.name).toBe('INVALIDUNIT')
    expect(e.parameters).toEqual(['unit'])
    expect(httpStatusOf(e.name)).toBe(403)
    expect(failedEvents(await f.audit())).toMatchObject([{ code: 'INVALIDUNIT' }])
    expect(issuedEvents(await f.audit())).toHaveLength(0)
  })
})

describe('identity JWT', () => {
  it('refuses an unknown organisation: 401 INVALIDORGANISATION', async () => {
    const f = await fixture()
    const e = failure(await f.issue({ jwt: 'jwt-u42', organisation: 'nope' }))
    expect(e.name).toBe('INVALIDORGANISATION')
    expect(httpStatusOf(e.name)).toBe(401)
  })

  it.each([
    ['the verifier refuses the jwt', 'jwt-forged'],
    ['the subject is linked to no consumer', 'jwt-unlinked'],
    ['the subject is linked in another organisation only', 'jwt-other'],
  ])('refuses when %s: 401 INVALIDIDENTITYTOKEN, one message', async (_what, jwt) => {
    const f = await fixture()
    const e = failure(await f.issue({ jwt, organisation: 'ps_dev' }))
    expect(e.name).toBe('INVALIDIDENTITYTOKEN')
    expect(httpStatusOf(e.name)).toBe(401)
    const reference = failure(await f.issue({ jwt: 'jwt-forged', organisation: 'ps_dev' }))
    expect(e.message).toBe(reference.message)
    expect(failedEvents(await f.audit())).toMatchObject([
      { mode: 'IdentityJwt', code: 'INVALIDIDENTITYTOKEN', organisation: 'ps_dev' },
      { mode: 'IdentityJwt', code: 'INVALIDIDENTITYTOKEN', organisation: 'ps_dev' },
    ])
  })
})

describe('validation comes first, and a store that is down is SERVICEUNAVAILABLE', () => {
  it.each([
    ['AuthenticationCode with key', code(EXAMPLE_CODE), KEY],
    ['AuthenticationCode keyless', code(EXAMPLE_CODE), undefined],
    ['IdentifierPassCode', pass('maria', '4711'), KEY],
    ['IdentityJwt', { jwt: 'jwt-u42', organisation: 'ps_dev' }, undefined],
  ])('%s with the store down: 503 SERVICEUNAVAILABLE', async (_what, body, key) => {
    const f = await fixture()
    f.store.unavailable = true
    const e = failure(await f.issue(body, key))
    expect(e.name).toBe('SERVICEUNAVAILABLE')
    expect(httpStatusOf(e.name)).toBe(503)
    expect(e.message).not.toContain('memory store')
    f.store.unavailable = false
    expect(ok(await f.issue(body, key)).session.sessionId).toMatch(/^[0-9A-F]{32}$/)
  })

  it('reports a validation error without touching the store, auditing or counting it', async () => {
    const f = await fixture()
    f.store.unavailable = true
    expect(failure(await f.issue({ access_token_identifier: { identifier: 'maria' } }, KEY)).name).toBe('MISSINGPARAMETER')
    f.store.unavailable = false
    expect(await f.audit()).toHaveLength(0)
    expect(await f.store.getAttempts(`key:${fakeDigest.digest(KEY)}`)).toBeUndefined()
  })
})
