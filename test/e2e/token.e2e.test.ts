/**
 * End to end over real HTTP on the embedded default (a listening server, a real SQLite file, generated secrets):
 * the documented example byte for byte, and every error of SPEC 7 this service can produce, each by a real request.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compactVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../adapters/clock.js'
import { createKeyRing } from '../../adapters/crypto/key-ring.js'
import { MemoryStore } from '../../adapters/memory/memory-store.js'
import {
  basic, decodeJwtPart, EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, postToken, rawRequest, SESSION_ROUTE, startTestService, TOKEN_ROUTE,
  type RawResponse, type TestService,
} from '../support/service.js'

const KEY = 'EE73C0AE64524371B5DDEFF5F7BB2192'

const expectError = (r: RawResponse, status: number, name: string, parameter?: string) => {
  expect(r.status, r.text).toBe(status)
  expect(r.json.data).toBeNull()
  expect(r.json.status.code).toMatch(new RegExp(`^COM\\.CRM\\.EXCEPTION\\.(VALIDATION|AUTHENTICATION|GENERAL)\\.${name}EXCEPTION$`))
  expect(typeof r.json.status.message).toBe('string')
  if (parameter) expect(r.json.status.message).toContain(parameter)
}

describe('the documented example on the embedded default', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc.stop())

  it('returns 200 and a token with the documented header and claims, verifiable with the key ring', async () => {
    const r = await rawRequest(svc.url, {
      path: TOKEN_ROUTE,
      headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json' },
      body: EXAMPLE_BODY,
    })
    expect(r.status, r.text).toBe(200)
    expect(Object.keys(r.json)).toEqual(['data', 'status'])
    expect(r.json.status).toEqual({ code: 'OK', description: '', message: '' })
    const token: string = r.json.data.token
    expect(token.length).toBeGreaterThan(32)
    const header = decodeJwtPart(token, 0)
    expect(header.typ).toBe('JWT')
    expect(header.alg).toBe('HS256')
    expect(typeof header.kid).toBe('string')
    const claims = decodeJwtPart(token, 1)
    expect(Object.keys(claims).sort()).toEqual(['ari', 'cii', 'exp', 'iat', 'jti', 'org', 'oun', 'usr'])
    expect(claims).toMatchObject({
      cii: '2695FED3FCFD4084AB39F44B18889123',
      usr: 'maytemplate',
      org: 'ps_dev',
      ari: '261BF2B79198401D89A79C545F16CBEC',
      oun: '1',
    })
    expect(claims.exp - claims.iat).toBe(7200)
    expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(60)
    expect(claims.jti).toMatch(/^[0-9A-F]{32}$/)

    const secrets = JSON.parse(readFileSync(join(svc.dir, 'secrets.json'), 'utf8'))
    const ring = await createKeyRing(secrets, systemClock)
    const verified = await ring.verifier.verify(token)
    expect(verified.ok).toBe(true)
    const hs = secrets.signingKeys.find((k: { kid: string }) => k.kid === header.kid)
    await expect(compactVerify(token, Buffer.from(hs.secret, 'base64url'), { algorithms: ['HS256'] })).resolves.toBeDefined()
  })

  it('serves the session of a token on the session route', async () => {
    const issued = await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })
    const r = await rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${issued.json.data.token}` })
    expect(r.status, r.text).toBe(200)
    expect(r.json.data.session).toMatchObject({ contactInformationId: '2695FED3FCFD4084AB39F44B18889123', organisation: 'ps_dev', unit: '1' })
  })

  it('stores neither the key nor the authentication code in clear text', () => {
    const bytes = readFileSync(join(svc.dir, 'consumer-auth.db'))
    const wal = (() => { try { return readFileSync(join(svc.dir, 'consumer-auth.db-wal')) } catch { return Buffer.alloc(0) } })()
    for (const file of [bytes, wal]) {
      expect(file.includes(Buffer.from(KEY))).toBe(false)
      expect(file.includes(Buffer.from(KEY.toLowerCase()))).toBe(false)
      expect(file.includes(Buffer.from('p_kestora1!'))).toBe(false)
    }
  })

  describe('every error, by a real request', () => {
    const auth = { Authorization: EXAMPLE_AUTHORIZATION }
    it('UNSUPPORTEDMEDIATYPE for a body that is not JSON', async () => {
      const r = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { 'content-type': 'text/plain', ...auth }, body: EXAMPLE_BODY })
      expectError(r, 415, 'UNSUPPORTEDMEDIATYPE', 'application/json')
    })
    it('PAYLOADTOOLARGE for a body over 16 KiB', async () => {
      const r = await postToken(svc.url, JSON.stringify({ unit: 'x'.repeat(17 * 1024) }), auth)
      expectError(r, 413, 'PAYLOADTOOLARGE', '16384')
    })
    it('MALFORMEDREQUEST for unparsable JSON, a non-object, and a bad Authorization header', async () => {
      expectError(await postToken(svc.url, '{"unit":', auth), 400, 'MALFORMEDREQUEST', 'JSON')
      expectError(await postToken(svc.url, '[1,2]', auth), 400, 'MALFORMEDREQUEST', 'object')
      expectError(await postToken(svc.url, EXAMPLE_BODY, { Authorization: basic(KEY, 'secret') }), 400, 'MALFORMEDREQUEST', 'password')
      expectError(await postToken(svc.url, EXAMPLE_BODY, { Authorization: `Bearer ${KEY}` }), 400, 'MALFORMEDREQUEST', 'Basic')
      expectError(await postToken(svc.url, EXAMPLE_BODY, { Authorization: 'Basic ***' }), 400, 'MALFORMEDREQUEST', 'base64')
    })
    it('MISSINGPARAMETER naming the parameter', async () => {
      expectError(await postToken(svc.url, { unit: '1' }, auth), 400, 'MISSINGPARAMETER', 'access_token_identifier')
      expectError(await postToken(svc.url, { access_token_identifier: { identifier: 'maria' } }, auth), 400, 'MISSINGPARAMETER', 'pass_code')
      expectError(await postToken(svc.url, { access_token_identifier: { identifier: 'maria', pass_code: '4711' } }), 400, 'MISSINGPARAMETER', 'key')
      expectError(await postToken(svc.url, { jwt: 'a.b.c' }), 400, 'MISSINGPARAMETER', 'organisation')
    })
    it('INVALIDPARAMETER naming the parameter', async () => {
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: '  ' } }, auth), 400, 'INVALIDPARAMETER', 'access_token_identifier.authentication_code')
      expectError(await postToken(svc.url, { access_token_identifier: 'p_kestora1!' }, auth), 400, 'INVALIDPARAMETER', 'access_token_identifier')
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'x' }, unit: 'u'.repeat(513) }, auth), 400, 'INVALIDPARAMETER', 'unit')
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 7 } }, auth), 400, 'INVALIDPARAMETER', 'authentication_code')
    })
    it('UNKNOWNPARAMETER with the nearest known name', async () => {
      const r = await postToken(svc.url, { jwt: 'a.b.c', organization: 'ps_dev' })
      expectError(r, 400, 'UNKNOWNPARAMETER', 'organization')
      expect(r.json.status.message).toContain('did you mean "organisation"')
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'x', passcode: '1' } }, auth), 400, 'UNKNOWNPARAMETER', 'access_token_identifier.passcode')
    })
    it('CONFLICTINGPARAMETERS naming the parameters', async () => {
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'x', identifier: 'y' } }, auth), 400, 'CONFLICTINGPARAMETERS', 'identifier')
      expectError(await postToken(svc.url, { jwt: 'a.b.c', organisation: 'ps_dev', access_token_identifier: { authentication_code: 'x' } }), 400, 'CONFLICTINGPARAMETERS', 'jwt')
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'x' }, organisation: 'ps_dev' }, auth), 400, 'CONFLICTINGPARAMETERS', 'organisation')
      expectError(await postToken(svc.url, { jwt: 'a.b.c', organisation: 'ps_dev' }, auth), 400, 'CONFLICTINGPARAMETERS', 'key')
    })
    it('INVALIDAPPLICATIONKEY with WWW-Authenticate', async () => {
      const r = await postToken(svc.url, EXAMPLE_BODY, { Authorization: basic('00000000000000000000000000000000') })
      expectError(r, 401, 'INVALIDAPPLICATIONKEY', 'key')
      expect(r.headers['www-authenticate']).toMatch(/^Basic /)
    })
    it('INVALIDACCESSTOKEN for a wrong code, with and without a key', async () => {
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'wrong' } }, auth), 401, 'INVALIDACCESSTOKEN', 'access_token_identifier')
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'wrong' } }), 401, 'INVALIDACCESSTOKEN', 'access_token_identifier')
    })
    it('INVALIDORGANISATION and INVALIDIDENTITYTOKEN in the identity-JWT mode', async () => {
      expectError(await postToken(svc.url, { jwt: 'a.b.c', organisation: 'nope' }), 401, 'INVALIDORGANISATION', 'organisation')
      expectError(await postToken(svc.url, { jwt: 'a.b.c', organisation: 'ps_dev' }), 401, 'INVALIDIDENTITYTOKEN', 'jwt')
    })
    it('INVALIDUNIT (403) for a unit the user does not belong to', async () => {
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '99' }, auth), 403, 'INVALIDUNIT', 'unit')
    })
    it('INVALIDTOKEN on the session route', async () => {
      expectError(await rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=abc` }), 401, 'INVALIDTOKEN', 'token')
      expectError(await rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE }), 401, 'INVALIDTOKEN', 'token')
    })
    it('METHODNOTALLOWED (405) for another HTTP method on the route, METHODNOTAVAILABLE (404) for an unknown route', async () => {
      const r = await rawRequest(svc.url, { method: 'GET', path: TOKEN_ROUTE })
      expectError(r, 405, 'METHODNOTALLOWED', 'GET')
      expect(r.headers['allow']).toContain('POST')
      expectError(await rawRequest(svc.url, { method: 'POST', path: '/crmapi/rest/v2/nothing' }), 404, 'METHODNOTAVAILABLE', '/crmapi/rest/v2/nothing')
    })
  })
})

describe('release rules and lock-out on their own services', () => {
  it('R15.0.0: jwt is PARAMETERNOTAVAILABLE naming R16.2.0, and the key is mandatory', async () => {
    const svc = await startTestService({ release: 'R15.0.0' })
    try {
      const r = await postToken(svc.url, { jwt: 'a.b.c', organisation: 'ps_dev' })
      expectError(r, 400, 'PARAMETERNOTAVAILABLE', 'jwt')
      expect(r.json.status.message).toContain('R16.2.0')
      expectError(await postToken(svc.url, { access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' }), 400, 'MISSINGPARAMETER', 'key')
      const ok = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json' }, body: EXAMPLE_BODY })
      expect(ok.status, ok.text).toBe(200)
    } finally {
      await svc.stop()
    }
  })

  it('R14.0.0: the method is not available (404)', async () => {
    const svc = await startTestService({ release: 'R14.0.0' })
    try {
      expectError(await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION }), 404, 'METHODNOTAVAILABLE', 'R15.0.0')
    } finally {
      await svc.stop()
    }
  })

  it('TOOMANYATTEMPTS (429) with Retry-After once a key reaches its threshold, without checking the credential', async () => {
    const svc = await startTestService({ 'lockout-key': '2' })
    try {
      const body = { access_token_identifier: { authentication_code: 'wrong' } }
      expectError(await postToken(svc.url, body, { Authorization: EXAMPLE_AUTHORIZATION }), 401, 'INVALIDACCESSTOKEN')
      expectError(await postToken(svc.url, body, { Authorization: EXAMPLE_AUTHORIZATION }), 401, 'INVALIDACCESSTOKEN')
      const r = await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })
      expectError(r, 429, 'TOOMANYATTEMPTS')
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    } finally {
      await svc.stop()
    }
  })

  it('SERVICEUNAVAILABLE (503) when the store is down, and back when it returns', async () => {
    const store = new MemoryStore()
    const svc = await startTestService({}, { store })
    try {
      store.unavailable = true
      expectError(await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION }), 503, 'SERVICEUNAVAILABLE')
      expect((await rawRequest(svc.url, { method: 'GET', path: '/health/ready' })).status).toBe(503)
      store.unavailable = false
      expect((await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })).status).toBe(200)
    } finally {
      await svc.stop()
    }
  })

  it('HTTP_STATUS=envelope answers failures with 200 and the error envelope', async () => {
    const svc = await startTestService({ 'http-status': 'envelope' })
    try {
      const r = await postToken(svc.url, { unit: '1' }, { Authorization: EXAMPLE_AUTHORIZATION })
      expect(r.status).toBe(200)
      expect(r.json.status.code).toBe('COM.CRM.EXCEPTION.VALIDATION.MISSINGPARAMETEREXCEPTION')
    } finally {
      await svc.stop()
    }
  })
})
