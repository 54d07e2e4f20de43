/**
 * /health/live and /health/ready (SPEC 10: ready = the store reachable and migrated, answered in bounded time), and
 * HTTP_STATUS=envelope (SPEC 7) on every Web API failure path: the token route, the session route, 404 and 405.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { migrateDatabase, openSqlStore } from '../../adapters/store/sql/open-store.js'
import type { DatabaseUrl } from '../../composition/config.js'
import { READY_TIMEOUT_MS } from '../../composition/modules/operations.js'
import { basic, rawRequest, SESSION_ROUTE, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

/** A store whose ping can be made to hang, as a database that accepts connections and never answers does. */
const hangingStore = () => {
  const store = Object.assign(new MemoryStore(), { hang: false })
  const answer = store.ping
  store.ping = () => (store.hang ? new Promise<undefined>(() => undefined) : answer())
  return store
}

describe('health', () => {
  let svc: TestService
  let sqlite: TestService
  const store = hangingStore()
  beforeAll(async () => {
    ;[svc, sqlite] = await Promise.all([startTestService({}, { store }), startTestService()])
  })
  afterAll(async () => Promise.all([svc.stop(), sqlite.stop()]))

  it('answers live and ready while the store answers (the SQL store: migrated)', async () => {
    for (const s of [svc, sqlite]) {
      const live = await rawRequest(s.url, { method: 'GET', path: '/health/live' })
      expect(live.status).toBe(200)
      expect(live.json).toEqual({ data: { status: 'live' }, status: { code: 'OK', description: '', message: '' } })
      const ready = await rawRequest(s.url, { method: 'GET', path: '/health/ready' })
      expect(ready.status).toBe(200)
      expect(ready.json.data).toEqual({ status: 'ready' })
    }
  })

  it('is not ready (503) while the store fails, but still live, and ready again when it is back', async () => {
    store.unavailable = true
    try {
      const ready = await rawRequest(svc.url, { method: 'GET', path: '/health/ready' })
      expect(ready.status).toBe(503)
      expect(ready.json.status.code).toBe('COM.CRM.EXCEPTION.GENERAL.SERVICEUNAVAILABLEEXCEPTION')
      expect((await rawRequest(svc.url, { method: 'GET', path: '/health/live' })).status).toBe(200)
    } finally {
      store.unavailable = false
    }
    expect((await rawRequest(svc.url, { method: 'GET', path: '/health/ready' })).status).toBe(200)
  })

  it('is not ready on an SQL database that is not migrated, and ready once it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-ready-'))
    const db: DatabaseUrl = { engine: 'sqlite', path: join(dir, 'unmigrated.db'), url: `sqlite:${join(dir, 'unmigrated.db')}` }
    const unmigrated = await startTestService({ demo: 'false' }, { store: await openSqlStore(db, { migrate: false }) })
    try {
      const before = await rawRequest(unmigrated.url, { method: 'GET', path: '/health/ready' })
      expect(before.status).toBe(503)
      expect(before.json.status.description).toBe('SERVICEUNAVAILABLE')
      await migrateDatabase(db)
      expect((await rawRequest(unmigrated.url, { method: 'GET', path: '/health/ready' })).status).toBe(200)
    } finally {
      await unmigrated.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it(`answers 503 within ${READY_TIMEOUT_MS} ms when the store does not answer at all`, async () => {
    store.hang = true
    try {
      const started = Date.now()
      const ready = await rawRequest(svc.url, { method: 'GET', path: '/health/ready' })
      const took = Date.now() - started
      expect(ready.status).toBe(503)
      expect(took).toBeGreaterThanOrEqual(READY_TIMEOUT_MS - 50)
      expect(took).toBeLessThan(READY_TIMEOUT_MS + 1500)
    } finally {
      store.hang = false
    }
  })
})

describe('HTTP_STATUS=envelope', () => {
  let svc: TestService
  const store = new MemoryStore()
  beforeAll(async () => {
    svc = await startTestService({ 'http-status': 'envelope', 'lockout-key': '1' }, { store })
  })
  afterAll(async () => svc.stop())

  const expectEnvelope = (r: { status: number; json: any; text: string }, name: string) => {
    expect(r.status, r.text).toBe(200)
    expect(r.json.data).toBeNull()
    expect(r.json.status.description).toBe(name)
    expect(r.json.status.code).toMatch(new RegExp(`\\.${name}EXCEPTION$`))
  }

  // First: the lock-out below leaves the example key locked for the rest of this service's life.
  it('still answers successes as in standard mode', async () => {
    const ok = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json' }, body: EXAMPLE_BODY })
    expect(ok.status).toBe(200)
    expect(ok.json.status.code).toBe('OK')
  })

  it('answers failures of the token route with 200, keeping WWW-Authenticate and Retry-After', async () => {
    const json = { 'Content-Type': 'application/json' }
    expectEnvelope(await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: json, body: '{"unit":"1"}' }), 'MISSINGPARAMETER')
    expectEnvelope(await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { 'Content-Type': 'text/plain' }, body: 'x' }), 'UNSUPPORTEDMEDIATYPE')
    const badKey = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: basic('NOT-A-KEY'), ...json }, body: EXAMPLE_BODY })
    expectEnvelope(badKey, 'INVALIDAPPLICATIONKEY')
    expect(badKey.headers['www-authenticate']).toMatch(/^Basic /)
    // A wrong code with the real key counts against the key (threshold 1 here); its next request is locked out.
    const wrongCode = JSON.stringify({ access_token_identifier: { authentication_code: 'not-the-code' } })
    expectEnvelope(await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...json }, body: wrongCode }), 'INVALIDACCESSTOKEN')
    const locked = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...json }, body: EXAMPLE_BODY })
    expectEnvelope(locked, 'TOOMANYATTEMPTS')
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0)
    store.unavailable = true
    try {
      expectEnvelope(await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...json }, body: EXAMPLE_BODY }), 'SERVICEUNAVAILABLE')
      // Readiness keeps its real status: load balancers read the status line.
      expect((await rawRequest(svc.url, { method: 'GET', path: '/health/ready' })).status).toBe(503)
    } finally {
      store.unavailable = false
    }
  })

  it('answers failures of the session route with 200', async () => {
    expectEnvelope(await rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE }), 'INVALIDTOKEN')
    expectEnvelope(await rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=not.a.token` }), 'INVALIDTOKEN')
    expectEnvelope(await rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE, headers: { Authorization: 'Bearer not.a.token' } }), 'INVALIDTOKEN')
  })

  it('answers an unknown path (404) and a method a path does not serve (405, with Allow) with 200', async () => {
    expectEnvelope(await rawRequest(svc.url, { method: 'GET', path: '/crmapi/rest/v2/no/such/method' }), 'METHODNOTAVAILABLE')
    expectEnvelope(await rawRequest(svc.url, { method: 'POST', path: '/nope', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 'METHODNOTAVAILABLE')
    const wrongMethod = await rawRequest(svc.url, { method: 'GET', path: TOKEN_ROUTE })
    expectEnvelope(wrongMethod, 'METHODNOTALLOWED')
    expect(wrongMethod.headers['allow']).toContain('POST')
    expectEnvelope(await rawRequest(svc.url, { method: 'POST', path: SESSION_ROUTE, headers: { 'Content-Type': 'application/json' }, body: '{}' }), 'METHODNOTALLOWED')
    expectEnvelope(await rawRequest(svc.url, { method: 'PROPFIND', path: TOKEN_ROUTE }), 'METHODNOTALLOWED')
  })

})
