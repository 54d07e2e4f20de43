/**
 * The runnable example (examples/accounts-service.ts): a Koa service that embeds the library and serves
 * GET /crmapi/rest/v2/accounts_receivable/show?token=..., started on a free port against a running consumer-auth.
 * It answers only the session consumer's accounts receivable; another consumer's is not reachable, whatever is asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHOW_PATH, startAccountsService, type AccountsService } from '../../examples/accounts-service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_SUBJECT } from '../support/example.js'
import { rawRequest, startTestService, type TestService } from '../support/service.js'
import { codeBody, expectInvalidToken, hs256Key, issueToken, provisionSecondConsumer, SECOND_CONSUMER, secretsPath, sendToken, signWith } from './support.js'
import { decodeJwtPart } from '../support/jwt.js'

const show = (accounts: AccountsService, token: string, extra = '') =>
  rawRequest(accounts.url, { method: 'GET', path: `${SHOW_PATH}?token=${encodeURIComponent(token)}${extra}` })

describe('the accounts example, with the secrets file of an HS256 consumer-auth', () => {
  let svc: TestService
  let accounts: AccountsService
  let first: string
  let second: string

  beforeAll(async () => {
    svc = await startTestService()
    await provisionSecondConsumer(svc)
    accounts = await startAccountsService({ secretsFile: secretsPath(svc), port: 0 })
    first = await issueToken(svc.url)
    second = await issueToken(svc.url, codeBody(SECOND_CONSUMER.code), { Authorization: EXAMPLE_AUTHORIZATION })
  })
  afterAll(async () => {
    await accounts?.close()
    await svc?.stop()
  })

  it("answers the session consumer's accounts receivable, and only that", async () => {
    const r = await show(accounts, first)
    expect(r.status, r.text).toBe(200)
    expect(r.json).toEqual({
      data: { accounts_receivable: expect.objectContaining({ accountsReceivableId: EXAMPLE_SUBJECT.accountsReceivableId, number: 'AR-0001' }) },
      status: { code: 'OK', description: '', message: '' },
    })
    expect(r.text).not.toContain(SECOND_CONSUMER.accountsReceivableId)
  })

  it("answers the second consumer's own account to its session", async () => {
    const r = await show(accounts, second)
    expect(r.status, r.text).toBe(200)
    expect(r.json.data.accounts_receivable).toMatchObject({ accountsReceivableId: SECOND_CONSUMER.accountsReceivableId, number: 'AR-0002' })
    expect(r.text).not.toContain(EXAMPLE_SUBJECT.accountsReceivableId)
  })

  it("does not reach another consumer's account, asked for by id, by either session", async () => {
    const asFirst = await show(accounts, first, `&accounts_receivable_identifier=${SECOND_CONSUMER.accountsReceivableId}`)
    expect(asFirst.status).toBe(404)
    expect(asFirst.text).not.toContain('Other Consumer')
    const asSecond = await show(accounts, second, `&accounts_receivable_identifier=${EXAMPLE_SUBJECT.accountsReceivableId}`)
    expect(asSecond.status).toBe(404)
    expect(asSecond.text).not.toContain('May Template')
    // The same answer as for an account that does not exist: nothing to learn about which exist.
    const none = await show(accounts, first, '&accounts_receivable_identifier=00000000000000000000000000000000')
    expect(none.json).toEqual(asFirst.json)
  })

  it('takes the token as Bearer too, and refuses missing and bad tokens with 401 INVALIDTOKEN', async () => {
    const bearer = await sendToken(accounts.url, SHOW_PATH, 'bearer', first)
    expect(bearer.status, bearer.text).toBe(200)
    expectInvalidToken(await rawRequest(accounts.url, { method: 'GET', path: SHOW_PATH }))
    expectInvalidToken(await show(accounts, await signWith(hs256Key('forged'))))
    const [h, , s] = first.split('.')
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwtPart(first, 1), ari: SECOND_CONSUMER.accountsReceivableId })).toString('base64url')}.${s}`
    expectInvalidToken(await show(accounts, tampered))
  })
})

describe('the accounts example, with the JWKS of an ES256 consumer-auth (no secret)', () => {
  let svc: TestService
  let accounts: AccountsService
  beforeAll(async () => {
    svc = await startTestService({ 'signing-alg': 'ES256' })
    accounts = await startAccountsService({ jwksUrl: `${svc.url}/.well-known/jwks.json`, port: 0 })
  })
  afterAll(async () => {
    await accounts?.close()
    await svc?.stop()
  })

  it("answers the session consumer's account", async () => {
    const r = await show(accounts, await issueToken(svc.url))
    expect(r.status, r.text).toBe(200)
    expect(r.json.data.accounts_receivable.accountsReceivableId).toBe(EXAMPLE_SUBJECT.accountsReceivableId)
  })
})
