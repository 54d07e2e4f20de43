/**
 * The audit log and the application log (SPEC 4, 10): a run of requests over HTTP, successful and failed, carrying a
 * key, an authentication code, a pass code, an identity JWT and session tokens in every place a client can put them
 * (Basic auth, a Basic password, Bearer, JSON body, unparsable JSON, unknown parameters, the query string) leaves
 * `issued`, `failed` and `locked_out` events with mode, key prefix, organisation, consumer and session id; and
 * neither the audit events nor the captured application log (pino at trace level into memory) contain any of those
 * secrets or tokens.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../composition/logger.js'
import type { AuditEvent } from '../../core/index.js'
import { basic, postToken, rawRequest, SESSION_ROUTE, TOKEN_ROUTE } from '../support/service.js'
import { decodeJwtPart } from '../support/jwt.js'
import { login, outcome, startSecuredService, withCode, withPassCode, type SecuredService } from './support.js'
import { EXAMPLE_ARI, EXAMPLE_AUDIENCE, EXAMPLE_CII, EXAMPLE_IDENTITY_SUBJECT, EXAMPLE_ISSUER, exampleDocument } from '../support/example.js'

const SECRET = {
  key: 'K7Q2-SECRETKEY-9D4F1A8B3C6E0A2D',
  code: 'AC-SECRET-h8Jq2ZmW4pXr',
  passCode: 'PC-SECRET-v3Nk9',
  wrongKey: 'WRONG-KEY-SECRET-77aa99bb',
  wrongCode: 'WRONG-CODE-SECRET-12',
  wrongPassCode: 'WRONG-PC-SECRET-34',
}

describe('audit events and the application log after a run of requests', () => {
  let s: SecuredService
  const logLines: string[] = []
  const tokens: string[] = []
  let identityJwt = ''
  let events: AuditEvent[] = []

  beforeAll(async () => {
    const logger = createLogger('trace', { write: (line: string) => void logLines.push(line) })
    s = await startSecuredService({ logger })
    const ec = await generateKeyPair('ES256', { extractable: true })
    const example = exampleDocument()
    await s.import({
      ...example,
      web_api_keys: [{ ...example.web_api_keys[0]!, key: SECRET.key }],
      access_tokens: [{ ...example.access_tokens[0]!, authentication_code: SECRET.code }, { ...example.access_tokens[1]!, pass_code: SECRET.passCode }],
      identity_providers: [{ ...example.identity_providers[0]!, jwks: { keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' }] } }],
    })
    identityJwt = await new SignJWT({ iss: EXAMPLE_ISSUER, aud: EXAMPLE_AUDIENCE, sub: EXAMPLE_IDENTITY_SUBJECT, exp: s.clock.now + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec.privateKey)

    const expectOutcome = async (p: Promise<{ json: any; text: string; status: number }>, expected: string) => {
      const r = await p
      expect(outcome(r as never), r.text).toBe(expected)
      if (expected === 'OK' && r.json.data.token) tokens.push(r.json.data.token)
      return r
    }
    // Successes in every mode.
    await expectOutcome(login(s.url, withCode(SECRET.code), SECRET.key), 'OK')
    await expectOutcome(login(s.url, withCode(SECRET.code)), 'OK')
    await expectOutcome(login(s.url, withPassCode('maria', SECRET.passCode), SECRET.key), 'OK')
    await expectOutcome(login(s.url, { jwt: identityJwt, organisation: 'ps_dev' }), 'OK')
    // Session tokens in the query string and as Bearer.
    expect((await rawRequest(s.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${tokens[0]}` })).status).toBe(200)
    expect((await rawRequest(s.url, { method: 'GET', path: SESSION_ROUTE, headers: { Authorization: `Bearer ${tokens[1]}` } })).status).toBe(200)
    const altered = await rawRequest(s.url, { method: 'GET', path: `${SESSION_ROUTE}?token=${tokens[2]}x` })
    expect([altered.status, outcome(altered)]).toEqual([401, 'INVALIDTOKEN'])
    // Failures: wrong secrets, a lock-out, and secrets in malformed requests.
    await expectOutcome(login(s.url, withCode(SECRET.code), SECRET.wrongKey), 'INVALIDAPPLICATIONKEY')
    await expectOutcome(login(s.url, withCode(SECRET.wrongCode), SECRET.key), 'INVALIDACCESSTOKEN')
    for (let i = 0; i < 5; i++) await expectOutcome(login(s.url, withPassCode('maria', `${SECRET.wrongPassCode}-${i}`), SECRET.key), 'INVALIDACCESSTOKEN')
    await expectOutcome(login(s.url, withPassCode('maria', SECRET.passCode), SECRET.key), 'TOOMANYATTEMPTS')
    await expectOutcome(login(s.url, withCode(SECRET.code, { unit: '99' }), SECRET.key), 'INVALIDUNIT')
    await expectOutcome(login(s.url, { jwt: `${identityJwt.slice(0, -4)}AAAA`, organisation: 'ps_dev' }), 'INVALIDIDENTITYTOKEN')
    await expectOutcome(login(s.url, { jwt: SECRET.code, organisation: 'ps_dev' }), 'INVALIDIDENTITYTOKEN')
    await expectOutcome(postToken(s.url, `{"access_token_identifier":{"identifier":"maria","pass_code":"${SECRET.passCode}"`, { Authorization: basic(SECRET.key) }), 'MALFORMEDREQUEST')
    await expectOutcome(postToken(s.url, withCode(SECRET.code), { Authorization: basic(SECRET.key, SECRET.passCode) }), 'MALFORMEDREQUEST')
    await expectOutcome(postToken(s.url, withCode(SECRET.code), { Authorization: `Bearer ${SECRET.key}` }), 'MALFORMEDREQUEST')
    await expectOutcome(login(s.url, { access_token_identifier: { authentication_code: SECRET.code, passcode: SECRET.passCode } }, SECRET.key), 'UNKNOWNPARAMETER')
    await expectOutcome(login(s.url, { access_token_identifier: { authentication_code: SECRET.code }, jwt: identityJwt, organisation: 'ps_dev' }, SECRET.key), 'CONFLICTINGPARAMETERS')
    await expectOutcome(rawRequest(s.url, { path: `${TOKEN_ROUTE}?key=${SECRET.key}&pass_code=${SECRET.passCode}`, headers: { 'content-type': 'text/plain' }, body: SECRET.code }), 'UNSUPPORTEDMEDIATYPE')
    events = (await s.store.listAuditEvents()).map((e) => e.event)
  })
  afterAll(async () => s?.stop())

  it('audits issued sessions with mode, key prefix, organisation, consumer and session id', () => {
    const issued = events.flatMap((e) => (e.type === 'issued' ? [e] : []))
    expect(issued.map((e) => e.mode)).toEqual(['AuthenticationCode', 'AuthenticationCode', 'IdentifierPassCode', 'IdentityJwt'])
    issued.forEach((e, i) => {
      expect(e).toMatchObject({ organisation: 'ps_dev', contactInformationId: EXAMPLE_CII, accountsReceivableId: EXAMPLE_ARI, sessionId: decodeJwtPart(tokens[i]!, 1).jti })
      expect(e.expiresAt - e.at).toBe(7200)
    })
    expect(issued.map((e) => e.keyPrefix)).toEqual([SECRET.key.slice(0, 6), undefined, SECRET.key.slice(0, 6), undefined])
  })

  it('audits failures with mode, code, key prefix and organisation, and the lock-out with its subject', () => {
    const failed = events.flatMap((e) => (e.type === 'failed' ? [e] : []))
    expect(failed.map((e) => [e.mode, e.code])).toEqual([
      ['AuthenticationCode', 'INVALIDAPPLICATIONKEY'],
      ['AuthenticationCode', 'INVALIDACCESSTOKEN'],
      ...Array(5).fill(['IdentifierPassCode', 'INVALIDACCESSTOKEN']),
      ['IdentifierPassCode', 'TOOMANYATTEMPTS'],
      ['AuthenticationCode', 'INVALIDUNIT'],
      ['IdentityJwt', 'INVALIDIDENTITYTOKEN'],
      ['IdentityJwt', 'INVALIDIDENTITYTOKEN'],
    ])
    expect(failed[0]).toMatchObject({ keyPrefix: SECRET.wrongKey.slice(0, 6) })
    expect(failed[0]).not.toHaveProperty('organisation')
    expect(failed.slice(1, 9).every((e) => e.keyPrefix === SECRET.key.slice(0, 6) && e.organisation === 'ps_dev')).toBe(true)
    expect(events.filter((e) => e.type === 'locked_out')).toMatchObject([{ subject: { kind: 'identifier', id: 'ps_dev/maria' } }])
  })

  it('neither the audit events nor the application log contain a key, code, pass code, JWT or session token', () => {
    const log = logLines.join('')
    // Positive control: the log did see every request.
    expect(logLines.filter((l) => l.includes('"msg":"request"'))).toHaveLength(24)
    const text = `${JSON.stringify(events)}\n${log}`
    const forbidden: Record<string, string> = {
      ...SECRET,
      'Basic credentials': Buffer.from(`${SECRET.key}:`).toString('base64'),
      'identity JWT': identityJwt,
      'identity JWT signature': identityJwt.split('.')[2]!,
      pepper: s.secrets.pepper,
    }
    tokens.forEach((t, i) => {
      forbidden[`session token ${i}`] = t
      forbidden[`session token ${i} signature`] = t.split('.')[2]!
    })
    for (const [name, secret] of Object.entries(forbidden)) expect(text.includes(secret), `${name} found`).toBe(false)
  })
})
