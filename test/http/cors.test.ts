/**
 * CORS_ORIGINS: browser portals on their own origins. A preflight from an allowed origin gets the CORS headers on
 * the token, session and release routes; one from another origin, or to another path, gets none; with no origins
 * configured (the default) nothing carries CORS headers. Bad values are refused at start-up with their name.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeConfig } from '../../composition/config.js'
import { rawRequest, SESSION_ROUTE, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const PORTAL = 'https://portal.example.com'
const OTHER = 'https://evil.example.net'
const RELEASE_ROUTE = '/crmapi/rest/v2/authentication/token/release'
const ROUTES = [TOKEN_ROUTE, SESSION_ROUTE, RELEASE_ROUTE]

const preflight = (svc: TestService, path: string, origin: string, method = 'POST') =>
  rawRequest(svc.url, {
    method: 'OPTIONS', path,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
  })

describe('CORS_ORIGINS set', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ 'cors-origins': `${PORTAL}, http://localhost:5173` })
  })
  afterAll(async () => svc?.stop())

  it('answers a preflight from an allowed origin with the CORS headers, on each of the three routes', async () => {
    for (const path of ROUTES) {
      const r = await preflight(svc, path, PORTAL)
      expect(r.status, path).toBe(204)
      expect(r.headers['access-control-allow-origin']).toBe(PORTAL)
      expect(r.headers['access-control-allow-methods']).toBe('GET,POST')
      expect(r.headers['access-control-allow-headers']).toBe('Authorization,Content-Type')
      expect(r.headers['access-control-max-age']).toBe('600')
      expect(r.headers['access-control-allow-credentials']).toBeUndefined()
      expect(r.headers['vary']).toContain('Origin')
    }
    expect((await preflight(svc, TOKEN_ROUTE, 'http://localhost:5173')).headers['access-control-allow-origin']).toBe('http://localhost:5173')
  })

  it('gives no CORS header to a preflight from another origin, nor on the other paths', async () => {
    for (const path of ROUTES) {
      const r = await preflight(svc, path, OTHER)
      expect(r.headers['access-control-allow-origin'], path).toBeUndefined()
      // It goes on to the OPTIONS answer every client gets: the envelope with the route's methods.
      expect(r.status, path).toBe(200)
      expect(r.json.data.allow.length, path).toBeGreaterThan(0)
    }
    // Near misses of an allowed origin are other origins.
    for (const near of ['https://portal.example.com:444', 'http://portal.example.com', 'https://portal.example.com.evil.net', 'null']) {
      expect((await preflight(svc, TOKEN_ROUTE, near)).headers['access-control-allow-origin'], near).toBeUndefined()
    }
    for (const path of ['/metrics', '/health/live', '/openapi.json', '/crmapi/rest/v2/nope']) {
      expect((await preflight(svc, path, PORTAL, 'GET')).headers['access-control-allow-origin'], path).toBeUndefined()
    }
  })

  it('adds the headers to the answers themselves for an allowed origin only, failures included', async () => {
    const post = (origin: string, authorization = EXAMPLE_AUTHORIZATION) =>
      rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { origin, authorization, 'content-type': 'application/json' }, body: EXAMPLE_BODY })
    const ok = await post(PORTAL)
    expect(ok.status).toBe(200)
    expect(ok.headers['access-control-allow-origin']).toBe(PORTAL)
    expect(ok.headers['access-control-expose-headers']).toBe('Retry-After,WWW-Authenticate,X-Request-Id')
    const refused = await post(PORTAL, 'Basic bm9wZTo=')
    expect(refused.status).toBe(401)
    expect(refused.headers['access-control-allow-origin']).toBe(PORTAL)
    const other = await post(OTHER)
    expect(other.status).toBe(200)
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
    const session = await rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${ok.json.data.token}`, headers: { origin: PORTAL } })
    expect(session.status).toBe(200)
    expect(session.headers['access-control-allow-origin']).toBe(PORTAL)
  })

  it('answers hundreds of concurrent preflights, each by its own origin', async () => {
    const origins = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? OTHER : PORTAL))
    const answers = await Promise.all(origins.map((o, i) => preflight(svc, ROUTES[i % 3]!, o)))
    expect(answers.map((a) => a.headers['access-control-allow-origin'] ?? null)).toEqual(origins.map((o) => (o === PORTAL ? PORTAL : null)))
  })
})

describe('CORS_ORIGINS unset (the default)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc?.stop())

  it('gives no CORS header to anyone', async () => {
    expect(svc.config.corsOrigins).toEqual([])
    for (const path of ROUTES) expect((await preflight(svc, path, PORTAL)).headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('CORS_ORIGINS values', () => {
  it.each(['*', 'portal.example.com', 'https://portal.example.com/', 'https://portal.example.com/app', 'ftp://files.example.com', 'https://user@portal.example.com'])(
    'refuses %j, naming the setting',
    (value) => {
      const r = decodeConfig({ CORS_ORIGINS: value })
      expect(E.isLeft(r) && r.left).toMatch(/CORS_ORIGINS.*not an origin/)
    },
  )

  it('accepts a comma-separated list, spaces and repeats tolerated', () => {
    const r = decodeConfig({ CORS_ORIGINS: ' https://a.example.com ,http://localhost:5173,https://a.example.com' })
    expect(E.isRight(r) && r.right.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173'])
  })
})
