/**
 * The three embedding examples (examples/accept-tokens.ts, embed-issuer.ts, use-core.ts), imported as they are and
 * run: against a consumer-auth test service (accepting its tokens, with the revocation check read from its SQLite
 * file by URL), as a host app of their own, and on the documented example's request. scripts/check-package.sh runs
 * them again from the packed tarball.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acceptTokensApp } from '../../examples/accept-tokens.js'
import { embedIssuer } from '../../examples/embed-issuer.js'
import { checkRequest } from '../../examples/use-core.js'
import { openStore } from '../../adapters/embed/open-store.js'
import { rawRequest, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_ARI, EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_KEY } from '../support/example.js'

const listen = async (app: Koa): Promise<{ url: string; server: Server }> => {
  const server = createServer(app.callback())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}
const closing = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()))
const issue = async (url: string, path = TOKEN_ROUTE): Promise<string> => {
  const r = await rawRequest(url, { path, headers: { Authorization: EXAMPLE_AUTHORIZATION, 'content-type': 'application/json' }, body: EXAMPLE_BODY })
  expect(r.status, r.text).toBe(200)
  return r.json.data.token as string
}

describe('accept-tokens, against a running consumer-auth', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc?.stop())

  it("answers the session's consumer, refuses a missing token, and a token whose key was revoked since", async () => {
    const db = `sqlite:${join(svc.dir, 'consumer-auth.db')}`
    const accept = await acceptTokensApp({ secretsFile: join(svc.dir, 'secrets.json') }, db)
    const { url, server } = await listen(accept.app)
    try {
      const token = await issue(svc.url)
      const me = await rawRequest(url, { method: 'GET', path: `/me?token=${token}` })
      expect(me.status, me.text).toBe(200)
      expect(me.json).toEqual({ organisation: 'ps_dev', accountsReceivableId: EXAMPLE_ARI })
      const none = await rawRequest(url, { method: 'GET', path: '/me' })
      expect(none.status).toBe(401)
      expect(none.json.status.code).toBe('COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDTOKENEXCEPTION')

      const store = await openStore(db)
      try {
        const [key] = await store.listKeys('ps_dev')
        expect(await store.setKeyStatus(key!.digest, 'REVOKED')).toBe(true)
      } finally {
        await store.close()
      }
      const revoked = await rawRequest(url, { method: 'GET', path: `/me?token=${token}` })
      expect(revoked.status, revoked.text).toBe(401)
      expect(revoked.json.status.code).toBe('COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDTOKENEXCEPTION')
    } finally {
      await closing(server)
      await accept.close()
    }
  })
})

describe('embed-issuer, as a host app of its own', () => {
  it("issues the documented example's token under the host's prefix and leaves the rest to the host", async () => {
    const { app, auth } = await embedIssuer()
    const { url, server } = await listen(app)
    try {
      const token = await issue(url, `/accounts/crmapi/rest/v2/authentication/consumer_application_key/token`)
      expect(await auth.verifier.verifyToken(token)).toMatchObject({ session: { organisation: 'ps_dev' } })
      const other = await rawRequest(url, { method: 'GET', path: '/accounts/statement' })
      expect(other.json).toEqual({ host: 'accounts', path: '/accounts/statement' })
      expect(other.headers['x-served-by']).toBe('accounts')
    } finally {
      await closing(server)
      await auth.close()
    }
  })
})

describe('use-core', () => {
  it('names the credential mode of the documented example, and the CRM.COM error of a bad request', () => {
    expect(checkRequest(JSON.parse(EXAMPLE_BODY), EXAMPLE_KEY)).toEqual({ mode: 'AuthenticationCode' })
    expect(checkRequest({ jwt: 'a.b.c', organisation: 'ps_dev' }, undefined, 'R15.0.0')).toMatchObject({
      status: 400, code: 'COM.CRM.EXCEPTION.VALIDATION.PARAMETERNOTAVAILABLEEXCEPTION',
    })
    expect(checkRequest({ unit: '1' }, EXAMPLE_KEY)).toMatchObject({ status: 400, code: 'COM.CRM.EXCEPTION.VALIDATION.MISSINGPARAMETEREXCEPTION' })
  })
})
