/**
 * Prometheus metrics at /metrics (SPEC 10): tokens issued by mode, failures by error, lock-outs, store errors, the
 * latency histogram, process metrics; one registry per service, so services in one process do not share counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { errorCode, errorNames } from '../../core/index.js'
import { rawRequest, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const JSON_TYPE = { 'Content-Type': 'application/json' }
const WRONG_CODE = JSON.stringify({ access_token_identifier: { authentication_code: 'not-the-code' } })

/** The value of one sample of the exposition text, or undefined when there is no such series. */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3])
  }
  return undefined
}

const scrape = async (svc: TestService): Promise<string> => {
  const r = await rawRequest(svc.url, { method: 'GET', path: '/metrics' })
  expect(r.status).toBe(200)
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return r.text
}

const failures = (text: string, name: (typeof errorNames)[number]) => sample(text, 'consumer_auth_failures_total', { name, code: errorCode(name) })

describe('/metrics', () => {
  let svc: TestService
  let other: TestService
  const store = new MemoryStore()
  beforeAll(async () => {
    ;[svc, other] = await Promise.all([
      startTestService({ 'lockout-address': '2' }, { store }),
      startTestService({}, { store: new MemoryStore() }),
    ])
  })
  afterAll(async () => Promise.all([svc.stop(), other.stop()]))

  it('starts with every series at 0, and the process metrics', async () => {
    const text = await scrape(svc)
    for (const mode of ['AuthenticationCode', 'IdentifierPassCode', 'IdentityJwt']) expect(sample(text, 'consumer_auth_tokens_issued_total', { mode })).toBe(0)
    for (const name of errorNames) expect(failures(text, name), name).toBe(0)
    for (const subject of ['identifier', 'key', 'address']) expect(sample(text, 'consumer_auth_lockouts_total', { subject })).toBe(0)
    expect(sample(text, 'consumer_auth_locked_out_requests_total')).toBe(0)
    expect(sample(text, 'consumer_auth_sessions_released_total')).toBe(0)
    expect(sample(text, 'consumer_auth_store_errors_total')).toBe(0)
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m)
    expect(text).toMatch(/^# TYPE consumer_auth_http_request_duration_seconds histogram$/m)
  })

  it('counts a success by mode and a failure by name, and times both by route, method and status', async () => {
    expect((await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...JSON_TYPE }, body: EXAMPLE_BODY })).status).toBe(200)
    expect((await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...JSON_TYPE }, body: WRONG_CODE })).status).toBe(401)
    expect((await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { 'Content-Type': 'text/plain' }, body: 'x' })).status).toBe(415)
    const text = await scrape(svc)
    expect(sample(text, 'consumer_auth_tokens_issued_total', { mode: 'AuthenticationCode' })).toBe(1)
    expect(sample(text, 'consumer_auth_tokens_issued_total', { mode: 'IdentifierPassCode' })).toBe(0)
    expect(failures(text, 'INVALIDACCESSTOKEN')).toBe(1)
    expect(failures(text, 'UNSUPPORTEDMEDIATYPE')).toBe(1)
    expect(failures(text, 'INVALIDAPPLICATIONKEY')).toBe(0)
    const route = TOKEN_ROUTE
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_count', { route, method: 'POST', status: '200' })).toBe(1)
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_count', { route, method: 'POST', status: '401' })).toBe(1)
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_bucket', { route, method: 'POST', status: '200', le: '+Inf' })).toBe(1)
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_sum', { route, method: 'POST', status: '200' })).toBeGreaterThan(0)
  })

  it('labels unknown paths by "unmatched" (not by the path) and counts 404 and 405 by name', async () => {
    expect((await rawRequest(svc.url, { method: 'GET', path: '/no/such/path/1' })).status).toBe(404)
    expect((await rawRequest(svc.url, { method: 'GET', path: '/no/such/path/2' })).status).toBe(404)
    expect((await rawRequest(svc.url, { method: 'PUT', path: TOKEN_ROUTE })).status).toBe(405)
    const text = await scrape(svc)
    expect(failures(text, 'METHODNOTAVAILABLE')).toBe(2)
    expect(failures(text, 'METHODNOTALLOWED')).toBe(1)
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status: '404' })).toBe(2)
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_count', { route: TOKEN_ROUTE, method: 'PUT', status: '405' })).toBe(1)
    expect(text).not.toContain('/no/such/path')
  })

  it('counts a lock-out once, when the subject becomes locked, and the requests refused after it apart', async () => {
    // Keyless authentication codes count against the client address; this service locks it after 2 failures.
    const keyless = () => rawRequest(svc.url, { path: TOKEN_ROUTE, headers: JSON_TYPE, body: WRONG_CODE })
    expect((await keyless()).status).toBe(401)
    let text = await scrape(svc)
    expect(sample(text, 'consumer_auth_lockouts_total', { subject: 'address' })).toBe(0)
    expect((await keyless()).status).toBe(401)
    text = await scrape(svc)
    expect(sample(text, 'consumer_auth_lockouts_total', { subject: 'address' })).toBe(1)
    expect((await keyless()).status).toBe(429)
    expect((await keyless()).status).toBe(429)
    text = await scrape(svc)
    expect(sample(text, 'consumer_auth_lockouts_total', { subject: 'address' })).toBe(1)
    expect(sample(text, 'consumer_auth_locked_out_requests_total')).toBe(2)
    expect(failures(text, 'TOOMANYATTEMPTS')).toBe(2)
    expect(failures(text, 'INVALIDACCESSTOKEN')).toBe(3)
  })

  it('counts store errors (SERVICEUNAVAILABLE)', async () => {
    store.unavailable = true
    try {
      expect((await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...JSON_TYPE }, body: EXAMPLE_BODY })).status).toBe(503)
    } finally {
      store.unavailable = false
    }
    const text = await scrape(svc)
    expect(sample(text, 'consumer_auth_store_errors_total')).toBe(1)
    expect(failures(text, 'SERVICEUNAVAILABLE')).toBe(1)
  })

  it('keeps each service\'s counts apart (one registry per app)', async () => {
    const text = await scrape(other)
    expect(sample(text, 'consumer_auth_tokens_issued_total', { mode: 'AuthenticationCode' })).toBe(0)
    expect(failures(text, 'INVALIDACCESSTOKEN')).toBe(0)
    expect(sample(text, 'consumer_auth_http_request_duration_seconds_count', { route: TOKEN_ROUTE, method: 'POST', status: '200' })).toBeUndefined()
  })
})
