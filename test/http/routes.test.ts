/**
 * Route matching and the answers around the routes (a real listening service): paths match exactly (case and a
 * trailing slash count), OPTIONS is answered with the envelope and `Allow`, and every answer of the token and
 * session routes says `Cache-Control: no-store`, success or failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorCode } from '../../core/index.js'
import { postToken, rawRequest, SESSION_ROUTE, startTestService, TOKEN_ROUTE, type RawResponse, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const NOT_AVAILABLE = errorCode('METHODNOTAVAILABLE')

const expectNoMethod = (r: RawResponse, status: number) => {
  expect(r.status).toBe(status)
  expect(r.json).toMatchObject({ data: null, status: { code: NOT_AVAILABLE, description: 'METHODNOTAVAILABLE' } })
}

describe.each<{ mode: string; flags: Record<string, string>; failureStatus: (s: number) => number }>([
  { mode: 'standard', flags: {}, failureStatus: (s) => s },
  { mode: 'envelope', flags: { 'http-status': 'envelope' }, failureStatus: () => 200 },
])('routes, HTTP_STATUS=$mode', ({ flags, failureStatus }) => {
  let svc: TestService
  let token: string
  beforeAll(async () => {
    svc = await startTestService(flags)
    const ok = await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })
    expect(ok.status, ok.text).toBe(200)
    token = ok.json.data.token
  })
  afterAll(async () => svc.stop())

  describe('match exactly', () => {
    const variants = [
      TOKEN_ROUTE.replace(/token$/, 'TOKEN'),
      `${TOKEN_ROUTE}/`,
      TOKEN_ROUTE.replace('/crmapi/', '/CRMAPI/'),
      TOKEN_ROUTE.replace('consumer_application_key', 'Consumer_Application_Key'),
      `${TOKEN_ROUTE}//`,
    ]
    for (const path of variants) {
      it(`POST ${path.slice(-40)} is no route: 404 METHODNOTAVAILABLE`, async () => {
        const r = await rawRequest(svc.url, { path, headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json' }, body: EXAMPLE_BODY })
        expectNoMethod(r, failureStatus(404))
        expect(r.text).not.toContain('"token"')
      })
    }
    for (const path of [`${SESSION_ROUTE}/`, SESSION_ROUTE.toUpperCase(), '/HEALTH/LIVE', '/health/live/', '/Health/Ready']) {
      it(`GET ${path.slice(-40)} is no route: 404 METHODNOTAVAILABLE`, async () => {
        expectNoMethod(await rawRequest(svc.url, { method: 'GET', path: `${path}?token=${token}` }), failureStatus(404))
      })
    }
    it('the exact spellings still answer', async () => {
      expect((await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })).status).toBe(200)
      expect((await rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${token}` })).json.data.session).toBeDefined()
      expect((await rawRequest(svc.url, { method: 'GET', path: '/health/live' })).json.data).toEqual({ status: 'live' })
    })
  })

  describe('OPTIONS', () => {
    for (const [path, allow] of [[TOKEN_ROUTE, ['POST']], [SESSION_ROUTE, ['HEAD', 'GET']]] as const) {
      it(`on ${path.slice(-40)} answers 200 with the OK envelope and Allow: ${allow.join(', ')}`, async () => {
        const r = await rawRequest(svc.url, { method: 'OPTIONS', path })
        expect(r.status).toBe(200)
        expect(r.headers['content-type']).toMatch(/^application\/json/)
        expect(r.headers['allow']).toBe(allow.join(', '))
        expect(r.json).toEqual({ data: { allow }, status: { code: 'OK', description: '', message: '' } })
      })
    }
    it('on no route is the 404 envelope', async () => {
      expectNoMethod(await rawRequest(svc.url, { method: 'OPTIONS', path: `${TOKEN_ROUTE}/` }), failureStatus(404))
    })
    it('on the JWKS of a ring without an asymmetric key is the 404 envelope, as its GET is (found by the HTTP fuzz)', async () => {
      expectNoMethod(await rawRequest(svc.url, { method: 'GET', path: '/.well-known/jwks.json' }), failureStatus(404))
      expectNoMethod(await rawRequest(svc.url, { method: 'OPTIONS', path: '/.well-known/jwks.json' }), failureStatus(404))
    })
  })

  describe('Cache-Control: no-store on every answer of the session and token routes', () => {
    const cases: ReadonlyArray<{ name: string; send: () => Promise<RawResponse>; status: number }> = [
      { name: 'a session, token in the query', send: () => rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${token}` }), status: 200 },
      { name: 'a session, bearer token', send: () => rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE, headers: { Authorization: `Bearer ${token}` } }), status: 200 },
      { name: 'a session, token in the body', send: () => rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE, headers: { 'Content-Type': 'application/json', 'Content-Length': String(JSON.stringify({ token }).length) }, body: JSON.stringify({ token }) }), status: 200 },
      { name: 'an invalid token in the query', send: () => rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${token}x` }), status: failureStatus(401) },
      { name: 'the token twice in the query', send: () => rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${token}&token=${token}` }), status: failureStatus(401) },
      { name: 'no token', send: () => rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE }), status: failureStatus(401) },
      { name: 'a body that is not JSON', send: () => rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE, headers: { 'Content-Type': 'application/json', 'Content-Length': '9' }, body: '{"token":' }), status: failureStatus(400) },
      { name: 'POST on the session route (405)', send: () => rawRequest(svc.url, { method: 'POST', path: `${SESSION_ROUTE}?token=${token}` }), status: failureStatus(405) },
      { name: 'HEAD on the session route', send: () => rawRequest(svc.url, { method: 'HEAD', path: `${SESSION_ROUTE}?token=${token}` }), status: 200 },
      { name: 'OPTIONS on the session route', send: () => rawRequest(svc.url, { method: 'OPTIONS', path: `${SESSION_ROUTE}?token=${token}` }), status: 200 },
      { name: 'a token', send: () => postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION }), status: 200 },
      { name: 'a refused token request', send: () => postToken(svc.url, '{"unit":1}', { Authorization: EXAMPLE_AUTHORIZATION }), status: failureStatus(400) },
      { name: 'GET on the token route (405)', send: () => rawRequest(svc.url, { method: 'GET', path: TOKEN_ROUTE }), status: failureStatus(405) },
    ]
    for (const c of cases) {
      it(c.name, async () => {
        const r = await c.send()
        expect(r.status, r.text).toBe(c.status)
        expect(r.headers['cache-control']).toBe('no-store')
      })
    }
  })
})
