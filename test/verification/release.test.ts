/**
 * Releasing a session (logout): POST {base}/authentication/token/release with the token in a JSON body or as a
 * bearer token answers the OK envelope with no data; the session route refuses the session from then on, whatever
 * REVOCATION_CHECK says; releasing twice is harmless; a bad or expired token is INVALIDTOKEN; a 'released' event is
 * audited; an embedding service's verifier with a revocation check on the same store refuses it too (within its
 * cache lifetime); other sessions of the consumer stand. Hundreds of releases and checks in flight at once.
 */
import { systemClock } from '../../adapters/clock/system-clock.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionVerifier } from '../../adapters/embed/session-verifier.js'
import type { Store } from '../../adapters/store/store.js'
import { rawRequest, SESSION_ROUTE, startTestService, type TestService } from '../support/service.js'
import { expectInvalidToken, issueToken, openServiceStore, readSecrets, secretsPath, sendToken, signWith } from './support.js'
import { decodeJwtPart } from '../support/jwt.js'
import { EXAMPLE_ARI, EXAMPLE_KEY } from '../support/example.js'

const RELEASE_ROUTE = '/crmapi/rest/v2/authentication/token/release'
const release = (svc: TestService, token: string, carrier: 'body' | 'bearer' = 'body') => sendToken(svc.url, RELEASE_ROUTE, carrier, token, 'POST')
const check = (svc: TestService, token: string) => sendToken(svc.url, SESSION_ROUTE, 'query', token)

for (const flags of [{}, { 'revocation-check': 'true', 'revocation-cache': '60' }] as Array<Record<string, string>>) {
  describe(`release, REVOCATION_CHECK ${flags['revocation-check'] ?? 'off'}`, () => {
    let svc: TestService
    let store: Store
    beforeAll(async () => {
      svc = await startTestService(flags)
      store = await openServiceStore(svc)
    })
    afterAll(async () => {
      await store?.close()
      await svc?.stop()
    })

    it('answers OK with no data; the session route refuses the session at once, by every carrier; other sessions stand', async () => {
      const token = await issueToken(svc.url)
      const other = await issueToken(svc.url)
      expect((await check(svc, token)).status).toBe(200) // with the cache on, the full check is now remembered for 60 s
      const releases = async () => Number(/^consumer_auth_sessions_released_total (\d+)$/m.exec((await rawRequest(svc.url, { method: 'GET', path: '/metrics' })).text)?.[1])
      const before = await releases()
      const r = await release(svc, token)
      expect(await releases()).toBe(before + 1)
      expect(r.status, r.text).toBe(200)
      expect(r.json).toEqual({ data: null, status: { code: 'OK', description: '', message: '' } })
      expect(r.headers['cache-control']).toBe('no-store')
      for (const carrier of ['query', 'body', 'bearer'] as const) expectInvalidToken(await sendToken(svc.url, SESSION_ROUTE, carrier, token))
      expect((await check(svc, other)).status).toBe(200)
    })

    it('takes the token as a bearer token; releasing twice answers OK and records one release', async () => {
      const token = await issueToken(svc.url)
      const sessionId = String(decodeJwtPart(token, 1)['jti'])
      expect((await release(svc, token, 'bearer')).status).toBe(200)
      expect((await release(svc, token, 'bearer')).status).toBe(200)
      expect((await release(svc, token)).status).toBe(200)
      const events = (await store.queryAuditEvents({ types: ['released'], limit: 100 })).filter((e) => e.event.type === 'released' && e.event.sessionId === sessionId)
      expect(events.map((e) => e.event)).toEqual([
        expect.objectContaining({ type: 'released', sessionId, organisation: 'ps_dev', accountsReceivableId: EXAMPLE_ARI, by: 'consumer' }),
      ])
      expect(JSON.stringify(events)).not.toContain(token)
      expect(JSON.stringify(events)).not.toContain(EXAMPLE_KEY)
    })

    it('answers INVALIDTOKEN for a missing, malformed, wrongly signed or expired token', async () => {
      expectInvalidToken(await rawRequest(svc.url, { path: RELEASE_ROUTE, headers: { 'content-type': 'application/json' }, body: '{}' }))
      expectInvalidToken(await rawRequest(svc.url, { path: RELEASE_ROUTE }))
      expectInvalidToken(await release(svc, 'not-a-jwt'))
      const secrets = readSecrets(secretsPath(svc))
      const active = secrets.signingKeys.find((k) => k.kid === secrets.activeKid)!
      expectInvalidToken(await release(svc, await signWith(active, systemClock.nowSeconds() - 7200 - 31)))
      expectInvalidToken(await release(svc, `${(await issueToken(svc.url)).slice(0, -3)}AAA`))
    })

    it('hundreds of concurrent releases and checks of many sessions: each released session refused, none other', async () => {
      const tokens = await Promise.all(Array.from({ length: 60 }, () => issueToken(svc.url)))
      const [released, kept] = [tokens.slice(0, 30), tokens.slice(30)]
      const answers = await Promise.all([
        ...released.flatMap((t) => [release(svc, t), release(svc, t, 'bearer'), release(svc, t)]),
        ...kept.map((t) => check(svc, t)),
      ])
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200))
      const after = await Promise.all([...released, ...kept].flatMap((t) => [check(svc, t), check(svc, t)]))
      expect(after.map((a) => a.status)).toEqual([...released.flatMap(() => [401, 401]), ...kept.flatMap(() => [200, 200])])
    })

    it("an embedding service's verifier with a revocation check on the same store refuses a released session", async () => {
      const verifier = await createSessionVerifier({ secretsFile: secretsPath(svc), revocation: store, revocationCacheSeconds: 0 })
      const without = await createSessionVerifier({ secretsFile: secretsPath(svc) })
      const token = await issueToken(svc.url)
      expect(await verifier.verifyToken(token)).toHaveProperty('session')
      expect((await release(svc, token)).status).toBe(200)
      expect(await verifier.verifyToken(token)).toMatchObject({ error: { name: 'INVALIDTOKEN' } })
      // Without a revocation check a verifier knows nothing of releases: a signed, unexpired token stands.
      expect(await without.verifyToken(token)).toHaveProperty('session')
    })
  })
}
