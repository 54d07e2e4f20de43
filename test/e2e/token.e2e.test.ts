/**
 * End to end over real HTTP on the embedded default (a listening server, a real SQLite file, generated secrets):
 * the documented example byte for byte, and every error this service can produce, each by a real request. The
 * token route's requests and expectations are the shared table of test/support/token-cases.ts, which the embedded
 * issuer's suite (test/embed) runs too.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compactVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../adapters/clock/system-clock.js'
import { createKeyRing } from '../../adapters/crypto/create-key-ring.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { postToken, rawRequest, startTestService, TOKEN_ROUTE, type RawResponse, type TestService } from '../support/service.js'
import { decodeJwtPart } from '../support/jwt.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_CODE, EXAMPLE_KEY, EXAMPLE_SESSION_CLAIMS } from '../support/example.js'
import { checkCase, tokenCases, tokenVariants } from '../support/token-cases.js'

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
    expect(claims).toMatchObject(EXAMPLE_SESSION_CLAIMS)
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

  it('stores neither the key nor the authentication code in clear text', () => {
    const bytes = readFileSync(join(svc.dir, 'consumer-auth.db'))
    const wal = (() => { try { return readFileSync(join(svc.dir, 'consumer-auth.db-wal')) } catch { return Buffer.alloc(0) } })()
    for (const file of [bytes, wal]) {
      expect(file.includes(Buffer.from(EXAMPLE_KEY))).toBe(false)
      expect(file.includes(Buffer.from(EXAMPLE_KEY.toLowerCase()))).toBe(false)
      expect(file.includes(Buffer.from(EXAMPLE_CODE))).toBe(false)
    }
  })

  describe('every error, by a real request (the shared table)', () => {
    for (const c of tokenCases) it(c.name, async () => void (await checkCase({ url: svc.url, basePath: svc.config.basePath }, c)))
    it('METHODNOTAVAILABLE (404) for a route the service does not have', async () => {
      expectError(await rawRequest(svc.url, { method: 'POST', path: '/crmapi/rest/v2/nothing' }), 404, 'METHODNOTAVAILABLE', '/crmapi/rest/v2/nothing')
    })
  })
})

describe('release rules and lock-out on their own services', () => {
  for (const variant of tokenVariants) {
    it(variant.name, async () => {
      const svc = await startTestService(variant.flags)
      try {
        for (const c of variant.cases) await checkCase({ url: svc.url, basePath: svc.config.basePath }, c)
      } finally {
        await svc.stop()
      }
    })
  }

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
})
