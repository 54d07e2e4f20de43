/**
 * SPEC 6, the session middleware by each carrier: on the server's session route
 * (GET {base}/authentication/consumer_application_key/session) and in a service that embeds the library
 * (createSessionVerifier + its middleware, from the package's `./http` export, on a GET and a POST route).
 * A valid token gives the session on ctx.state; tampered, expired, wrongly signed, `alg: none`, retired-and-expired
 * key and unknown-kid tokens are refused with 401 INVALIDTOKEN in the envelope, by every carrier.
 */
import { systemClock } from '../../adapters/clock/system-clock.js'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Router } from '@koa/router'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionVerifier, okEnvelope, type EmbeddedSessionVerifier, type SessionState } from '../../adapters/http/index.js'
import { rawRequest, SESSION_ROUTE, startTestService, type TestService } from '../support/service.js'
import { badTokens, CARRIERS, expectInvalidToken, hs256Key, issueToken, kidOf, readSecrets, secretsPath, sendToken, signWith, writeSecrets, type Carrier } from './support.js'
import { EXAMPLE_SUBJECT } from '../support/example.js'

const PROTECTED = '/protected'

/** A service of its own that embeds the library: no consumer-auth, only the secrets file to verify with. */
const startEmbedder = async (sessions: EmbeddedSessionVerifier): Promise<{ url: string; server: Server }> => {
  const router = new Router()
  const show = (ctx: Koa.Context) => {
    ctx.body = okEnvelope({ session: (ctx.state as SessionState).session, body: (ctx.request as { body?: unknown }).body ?? null })
  }
  router.get(PROTECTED, sessions.middleware(), show)
  router.post(PROTECTED, sessions.middleware(), show)
  const app = new Koa()
  app.use(router.routes())
  const server = createServer(app.callback())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('the session middleware, by each carrier', () => {
  let svc: TestService
  let embedder: { url: string; server: Server }
  let good: string
  let bad: ReadonlyArray<readonly [string, string]>

  beforeAll(async () => {
    svc = await startTestService()
    // The ring gets a retired key whose last token expired long ago: its tokens must be refused although it is known.
    const path = secretsPath(svc)
    const secrets = readSecrets(path)
    const retired = hs256Key('retired-2020', systemClock.nowSeconds() - 7230)
    writeSecrets(path, { ...secrets, signingKeys: [...secrets.signingKeys, retired] })
    await svc.reloadKeys()
    embedder = await startEmbedder(await createSessionVerifier({ secretsFile: path }))
    good = await issueToken(svc.url)
    bad = await badTokens(good, readSecrets(path), retired)
  })
  afterAll(async () => {
    await new Promise((resolve) => embedder?.server.close(resolve))
    await svc?.stop()
  })

  const targets: ReadonlyArray<readonly [string, () => string, string, string]> = [
    ['the server session route (GET)', () => svc.url, SESSION_ROUTE, 'GET'],
    ['an embedding service (GET)', () => embedder.url, PROTECTED, 'GET'],
    ['an embedding service (POST)', () => embedder.url, PROTECTED, 'POST'],
  ]

  describe.each(targets)('%s', (_name, url, path, method) => {
    it.each(CARRIERS)('verifies a token sent by %s and answers the session', async (carrier: Carrier) => {
      const r = await sendToken(url(), path, carrier, good, method)
      expect(r.status, r.text).toBe(200)
      expect(r.json.status.code).toBe('OK')
      expect(r.json.data.session).toMatchObject({ ...EXAMPLE_SUBJECT, unit: '1' })
      expect(r.json.data.session.expiresAt - r.json.data.session.issuedAt).toBe(7200)
    })

    it.each(CARRIERS)('refuses every bad token sent by %s with 401 INVALIDTOKEN', async (carrier: Carrier) => {
      expect(bad.length).toBeGreaterThanOrEqual(10)
      for (const [what, token] of bad) {
        const r = await sendToken(url(), path, carrier, token, method)
        expect(r.status, `${what}: ${r.text}`).toBe(401)
        expectInvalidToken(r)
      }
    })

    it('refuses a request without a token, and a token given twice in the query', async () => {
      expectInvalidToken(await rawRequest(url(), { method, path }))
      expectInvalidToken(await rawRequest(url(), { method, path: `${path}?token=${good}&token=${good}` }))
    })
  })

  it('says why a token was refused, naming no part of it', async () => {
    const reasons = new Map<string, string>()
    for (const [what, token] of bad) {
      const r = await sendToken(svc.url, SESSION_ROUTE, 'query', token)
      reasons.set(what, r.json.status.message)
      expect(r.text).not.toContain(token.split('.')[1] || token)
    }
    expect(reasons.get('expired (exp + 30 s passed)')).toContain('expired')
    expect(reasons.get('an unknown kid')).toContain('unknown or retired key')
    expect(reasons.get('signed by a retired key whose tokens have all expired')).toContain('unknown or retired key')
    expect(reasons.get('wrongly signed (the active kid, another secret)')).toContain('signature')
    expect(reasons.get('alg none, no signature')).toContain('algorithm')
  })

  it('takes the query token first, then the JSON body, then Bearer', async () => {
    const [, garbage] = bad.find(([what]) => what === 'an unknown kid')!
    const both = await rawRequest(embedder.url, {
      method: 'POST', path: `${PROTECTED}?token=${good}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${garbage}` }, body: JSON.stringify({ token: garbage }),
    })
    expect(both.status, both.text).toBe(200)
    const bodyOverBearer = await rawRequest(embedder.url, {
      method: 'POST', path: PROTECTED, headers: { 'content-type': 'application/json', authorization: `Bearer ${garbage}` }, body: JSON.stringify({ token: good }),
    })
    expect(bodyOverBearer.status, bodyOverBearer.text).toBe(200)
  })

  it('leaves the JSON body it read to the route, and takes Bearer with an empty or token-less body', async () => {
    const withBody = await rawRequest(embedder.url, {
      method: 'POST', path: PROTECTED, headers: { 'content-type': 'application/json', authorization: `Bearer ${good}` }, body: '{"amount":12}',
    })
    expect(withBody.status, withBody.text).toBe(200)
    expect(withBody.json.data.body).toEqual({ amount: 12 })
    const empty = await rawRequest(embedder.url, {
      method: 'POST', path: PROTECTED, headers: { 'content-type': 'application/json', 'content-length': '0', authorization: `Bearer ${good}` },
    })
    expect(empty.status, empty.text).toBe(200)
  })

  it('answers 400 for a JSON body that does not parse, and 413 for one over 16 KiB', async () => {
    const broken = await rawRequest(embedder.url, { method: 'POST', path: PROTECTED, headers: { 'content-type': 'application/json' }, body: '{"token":' })
    expect(broken.status).toBe(400)
    expect(broken.json.status.code).toBe('COM.CRM.EXCEPTION.VALIDATION.MALFORMEDREQUEST' + 'EXCEPTION')
    const large = await rawRequest(embedder.url, {
      method: 'POST', path: PROTECTED, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: good, pad: 'x'.repeat(17 * 1024) }),
    })
    expect(large.status).toBe(413)
  })

  it('verifies with the kid of the active key', () => {
    expect(kidOf(good)).toBe(readSecrets(secretsPath(svc)).activeKid)
  })
})

describe('createSessionVerifier', () => {
  it('needs exactly one source of keys', async () => {
    await expect(createSessionVerifier({} as never)).rejects.toThrow(/exactly one of secrets, secretsFile or jwksUrl/)
    await expect(createSessionVerifier({ secretsFile: '/x', jwksUrl: 'http://127.0.0.1/' } as never)).rejects.toThrow(/exactly one/)
  })

  it('verifies with a ring given in code, and answers { session } or { error }', async () => {
    const key = hs256Key('in-code')
    const sessions = await createSessionVerifier({ secrets: { signingKeys: [key], activeKid: key.kid } })
    const ok = await sessions.verifyToken(await signWith(key))
    expect('session' in ok && ok.session.accountsReceivableId).toBe(EXAMPLE_SUBJECT.accountsReceivableId)
    const refused = await sessions.verifyToken(await signWith(hs256Key('in-code')))
    expect('error' in refused && refused.error.name).toBe('INVALIDTOKEN')
  })

  it('refuses to start on a secrets file that does not exist, naming the file only', async () => {
    await expect(createSessionVerifier({ secretsFile: '/nonexistent/secrets.json' })).rejects.toThrow(/\/nonexistent\/secrets\.json does not exist/)
  })
})
