/**
 * The log (SPEC 10): one JSON line per request with its id, request line, status and duration; and never a key, an
 * authentication code, a pass code, an identity JWT or a session token, not even on the 503 and INTERNALERROR paths,
 * where errors are logged.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHttpApp } from '../../adapters/http/app.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { createLogger, maskSecrets } from '../../composition/logger.js'
import { R16_2_0 } from '../../core/index.js'
import { basic, rawRequest, SESSION_ROUTE, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_CODE, EXAMPLE_KEY } from '../support/example.js'

const PASS_CODE = 'Zq7-pass-code-4711'
const IDENTIFIER = 'maria.identifier'
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const IDENTITY_JWT = `${b64url({ alg: 'RS256', typ: 'JWT', kid: 'idp-1' })}.${b64url({ iss: 'https://id.example.com', sub: 'u-42', aud: 'crm' })}.${'c2lnbmF0dXJlLWJ5dGVz'.repeat(4)}`

/** A pino destination that keeps the lines. */
const memorySink = () => {
  const lines: string[] = []
  return { lines, write: (s: string) => void lines.push(s), text: () => lines.join('') }
}

/** Every fragment of a secret that would betray it: the whole, and for JWTs each part. */
const fragments = (secret: string): string[] => [secret, ...(secret.split('.').length === 3 ? secret.split('.').filter((p) => p.length > 8) : [])]

const expectNoSecret = (log: string, secrets: ReadonlyArray<string>) => {
  for (const s of secrets) for (const f of fragments(s)) expect(log.includes(f), `the log contains ${f.slice(0, 12)}…`).toBe(false)
}

describe('the request log of a real service', () => {
  let svc: TestService
  const sink = memorySink()
  const store = new MemoryStore()
  let sessionToken: string
  const secrets: string[] = [EXAMPLE_KEY, EXAMPLE_AUTHORIZATION.slice('Basic '.length), EXAMPLE_CODE, PASS_CODE, IDENTITY_JWT]

  beforeAll(async () => {
    svc = await startTestService({}, { store, logger: createLogger('info', sink) })
    const json = { 'Content-Type': 'application/json' }

    // A key (Basic) and an authentication code: success, and a session token.
    const ok = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...json, 'X-Request-Id': 'req-ok-1' }, body: EXAMPLE_BODY })
    expect(ok.status, ok.text).toBe(200)
    sessionToken = ok.json.data.token
    secrets.push(sessionToken)
    // The session token, in the query and as a bearer token.
    expect((await rawRequest(svc.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${encodeURIComponent(sessionToken)}` })).status).toBe(200)
    expect((await rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE, headers: { Authorization: `Bearer ${sessionToken}` } })).status).toBe(200)
    // An identifier and a pass code, with the key.
    const pass = await rawRequest(svc.url, {
      path: TOKEN_ROUTE, headers: { Authorization: basic(EXAMPLE_KEY), ...json },
      body: JSON.stringify({ access_token_identifier: { identifier: IDENTIFIER, pass_code: PASS_CODE } }),
    })
    expect(pass.status, pass.text).toBe(401)
    // An identity JWT.
    const jwt = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: json, body: JSON.stringify({ jwt: IDENTITY_JWT, organisation: 'ps_dev' }) })
    expect(jwt.status, jwt.text).toBe(401)
    // Secrets in a body that does not parse, and in a malformed Authorization header.
    expect((await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: json, body: `{"access_token_identifier":{"authentication_code":"${EXAMPLE_CODE}"` })).status).toBe(400)
    expect((await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: basic(EXAMPLE_KEY, PASS_CODE), ...json }, body: EXAMPLE_BODY })).status).toBe(400)
    // The store down: 503 for the token and for readiness.
    store.unavailable = true
    try {
      const down = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, ...json, 'X-Request-Id': 'req-503' }, body: EXAMPLE_BODY })
      expect(down.status, down.text).toBe(503)
      expect((await rawRequest(svc.url, { method: 'GET', path: '/health/ready' })).status).toBe(503)
    } finally {
      store.unavailable = false
    }
  })
  afterAll(async () => svc.stop())

  it('contains no key, authentication code, pass code, identity JWT or session token', () => {
    expect(sink.lines.length).toBeGreaterThanOrEqual(9)
    expectNoSecret(sink.text(), secrets)
    // The identifier is not a secret, but it is not logged either: bodies are not logged at all.
    expect(sink.text()).not.toContain(IDENTIFIER)
  })

  it('has one JSON line per request with its id, request line, status and duration', () => {
    const requests = sink.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' || l.msg === 'request failed')
    expect(requests).toHaveLength(9)
    for (const r of requests) {
      expect(r).toMatchObject({ service: 'consumer-auth', reqId: expect.any(String), method: expect.stringMatching(/^(GET|POST)$/), path: expect.stringMatching(/^\//), status: expect.any(Number) })
      expect(r.ms).toBeGreaterThanOrEqual(0)
      expect(typeof r.time).toBe('string')
    }
    expect(requests[0]).toMatchObject({ reqId: 'req-ok-1', method: 'POST', path: TOKEN_ROUTE, status: 200, level: 30 })
    expect(requests[0].error).toBeUndefined()
    // The query string (where the token travelled) is not part of the logged path.
    expect(requests[1]).toMatchObject({ method: 'GET', path: SESSION_ROUTE, status: 200 })
    expect(requests.map((r) => r.error)).toEqual([
      undefined, undefined, undefined, 'INVALIDACCESSTOKEN', 'INVALIDIDENTITYTOKEN', 'MALFORMEDREQUEST', 'MALFORMEDREQUEST', 'SERVICEUNAVAILABLE', undefined,
    ])
  })

  it('logs a 503 at warn with the store error that caused it', () => {
    const line = sink.lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req-503')
    expect(line).toMatchObject({ level: 40, msg: 'request failed', status: 503, error: 'SERVICEUNAVAILABLE' })
    expect(line.err).toMatchObject({ type: 'Error', message: 'memory store is unavailable' })
    expect(line.err.stack).toContain('memory-store')
  })
})

describe('the INTERNALERROR path', () => {
  it('logs the error with a correlation id and the request id, and none of the secrets its message quoted', async () => {
    const sink = memorySink()
    const log = createLogger('info', sink)
    const bugs: Array<() => never> = [
      // A parser quoting its input, as JSON.parse does.
      () => JSON.parse(`[${EXAMPLE_CODE}]`) as never,
      () => JSON.parse(PASS_CODE) as never,
      // A library that puts the request on the error.
      () => {
        throw Object.assign(new Error('request failed'), { request: { headers: { authorization: EXAMPLE_AUTHORIZATION } }, config: { key: EXAMPLE_KEY } })
      },
      // A careless message.
      () => {
        throw new Error(`cannot handle Basic ${EXAMPLE_AUTHORIZATION.slice(6)} with jwt ${IDENTITY_JWT} and key ${EXAMPLE_KEY}`)
      },
    ]
    let which = 0
    const app = createHttpApp({
      basePath: '/crmapi/rest/v2', release: R16_2_0, httpStatus: 'standard', trustProxy: false,
      issue: () => bugs[which++]!(),
      verify: () => TE.left({ name: 'INVALIDTOKEN', message: 'no', parameters: [] }),
      log, ready: async () => true,
    })
    const server = createServer(app.callback())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const ids: string[] = []
      for (let i = 0; i < bugs.length; i++) {
        const r = await rawRequest(url, { path: TOKEN_ROUTE, headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json', 'X-Request-Id': `bug-${i}` }, body: EXAMPLE_BODY })
        expect(r.status).toBe(500)
        expect(r.json.status.code).toBe('COM.CRM.EXCEPTION.GENERAL.INTERNALERROREXCEPTION')
        ids.push(/correlation id ([0-9a-f-]{36})/.exec(r.json.status.message)![1]!)
      }
      await new Promise<void>((r) => log.flush(() => r()))
      const lines = sink.lines.map((l) => JSON.parse(l))
      for (const [i, id] of ids.entries()) {
        const line = lines.find((l) => l.correlationId === id)
        expect(line).toMatchObject({ level: 50, msg: 'unexpected error while handling a request', reqId: `bug-${i}`, method: 'POST', path: TOKEN_ROUTE })
        expect(line.err.type).toMatch(/Error$/)
        expect(typeof line.err.stack).toBe('string')
      }
      expect(lines.filter((l) => l.msg === 'request failed' && l.status === 500)).toHaveLength(bugs.length)
      expectNoSecret(sink.text(), [EXAMPLE_KEY, EXAMPLE_AUTHORIZATION.slice(6), EXAMPLE_CODE, PASS_CODE, IDENTITY_JWT])
      expect(sink.text()).not.toContain('config')
      expect(sink.text()).not.toContain('kestora')
    } finally {
      server.close()
    }
  })

  it('masks quoted text, JWTs, Basic/Bearer credentials and key-like runs in messages, keeping file paths', () => {
    expect(maskSecrets(`Unexpected token 'p', "p_kestora1!" is not valid JSON`)).toBe('Unexpected token [masked], [masked] is not valid JSON')
    expect(maskSecrets(`Authorization: Basic ${EXAMPLE_AUTHORIZATION.slice(6)} or Bearer abc.def`)).toBe('Authorization: Basic [masked] or Bearer [masked]')
    expect(maskSecrets(`token ${IDENTITY_JWT} end`)).toBe('token [masked] end')
    expect(maskSecrets(`key ${EXAMPLE_KEY} end`)).toBe('key [masked] end')
    const frame = '    at issue (file:///work/main/adapters/http/token-route.ts:31:20)'
    expect(maskSecrets(frame)).toBe(frame)
  })
})

describe('the redaction list', () => {
  it('censors fields named like secrets, wherever a log call puts them', () => {
    const sink = memorySink()
    const log = createLogger('info', sink)
    log.info({
      authorization: EXAMPLE_AUTHORIZATION, token: 'tok-SECRET-1', jwt: 'jwt-SECRET-2', pass_code: 'pc-SECRET-3', authentication_code: 'ac-SECRET-4', key: 'key-SECRET-5',
      req: { headers: { authorization: 'Bearer hdr-SECRET-6' }, body: { pass_code: 'pc-SECRET-7' }, query: { token: 'q-SECRET-8' } },
      access_token_identifier: { authentication_code: 'ac-SECRET-9' },
    }, 'careless')
    const text = sink.text()
    expect(text).not.toMatch(/SECRET/)
    expect(text).not.toContain(EXAMPLE_AUTHORIZATION)
    expect(JSON.parse(text)).toMatchObject({ token: '[redacted]', key: '[redacted]', msg: 'careless' })
  })
})

describe('what a log line carries from the request', () => {
  it('is bounded: 512 characters of a 15 KB path, its length beside it; the 404 message quotes no more', async () => {
    const sink = memorySink()
    const svc = await startTestService({}, { logger: createLogger('info', sink) })
    try {
      const long = `/crmapi/rest/v2/${'a'.repeat(15_000)}`
      const [r] = await Promise.all([
        rawRequest(svc.url, { method: 'GET', path: long, headers: { 'X-Request-Id': 'long-path' } }),
        ...Array.from({ length: 100 }, () => rawRequest(svc.url, { method: 'GET', path: `${long}?token=x` })),
      ])
      expect(r!.status).toBe(404)
      expect(r!.text.length).toBeLessThan(1024)
      expect(r!.json.status.message).toContain(`${long.slice(0, 100)}`)
      const lines = sink.lines.filter((l) => l.includes('"msg":"request"'))
      expect(lines).toHaveLength(101)
      for (const l of lines) expect(l.length).toBeLessThan(1024)
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'long-path')
      expect(line).toMatchObject({ status: 404, error: 'METHODNOTAVAILABLE', pathLength: long.length })
      expect(line.path).toBe(`${long.slice(0, 512)}…`)
    } finally {
      await svc.stop()
    }
  })
})
