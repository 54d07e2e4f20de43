/**
 * Identity-provider JWTs over real HTTP (SPEC 4, IdentityJwt mode): a provider with a real JWKS (RS256 and ES256
 * public keys from jose) and a link (issuer, subject) -> consumer of ps_dev are imported into the running service's
 * store before its first identity request (the verifier caches providers for 30 s). Every forgery or misfit is 401
 * INVALIDIDENTITYTOKEN with one message; a valid token of either algorithm gets a session for the linked consumer,
 * running as the organisation's consumer user in that user's default unit.
 */
import { createPublicKey } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RawResponse } from '../support/service.js'
import { decodeJwtPart } from '../support/jwt.js'
import { login, outcome, startSecuredService, type SecuredService } from './support.js'
import { EXAMPLE_ARI, EXAMPLE_AUDIENCE, EXAMPLE_CII, EXAMPLE_IDENTITY_SUBJECT, EXAMPLE_ISSUER, EXAMPLE_KEY } from '../support/example.js'


const b64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url')

describe('identity JWTs over HTTP', () => {
  let s: SecuredService
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey }
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey }
  let stranger: { privateKey: CryptoKey; publicKey: CryptoKey }

  const sign = (key: CryptoKey, alg: 'RS256' | 'ES256', kid: string, claims: JWTPayload = {}) => {
    const now = s.clock.now
    return new SignJWT({ iss: EXAMPLE_ISSUER, aud: EXAMPLE_AUDIENCE, sub: EXAMPLE_IDENTITY_SUBJECT, iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .sign(key)
  }
  const valid = () => sign(rsa.privateKey, 'RS256', 'rsa-1')
  const present = (jwt: string, organisation = 'ps_dev') => login(s.url, { jwt, organisation })

  let refusal: string
  const expectRefused = (r: RawResponse) => {
    expect([r.status, outcome(r)], r.text).toEqual([401, 'INVALIDIDENTITYTOKEN'])
    // One message for every reason: the client learns nothing about which check failed.
    expect(r.json.status.message).toBe(refusal)
  }

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true })
    ec = await generateKeyPair('ES256', { extractable: true })
    stranger = await generateKeyPair('RS256', { extractable: true })
    // The misfits below are failures counted per client address; this suite is not about that threshold.
    // An hour of maximum identity-token lifetime (IDENTITY_MAX_LIFETIME_SECONDS; a day by default).
    s = await startSecuredService({ flags: { 'lockout-address': '1000', 'identity-max-lifetime': '3600' } })
    await s.import({
      organisations: [
        { id: 'ps_dev', name: 'PS Dev', consumer_user: 'ps_consumer' },
        { id: 'other', name: 'Other', consumer_user: 'other_consumer' },
      ],
      units: [
        { organisation: 'ps_dev', id: '1', name: 'Head office' },
        { organisation: 'ps_dev', id: '2', name: 'Web shop' },
        { organisation: 'other', id: 'A', name: 'A' },
      ],
      users: [
        { organisation: 'ps_dev', username: 'maytemplate', default_unit: '1', units: ['1'] },
        { organisation: 'ps_dev', username: 'ps_consumer', default_unit: '2', units: ['2'] },
        { organisation: 'other', username: 'other_consumer', default_unit: 'A', units: ['A'] },
      ],
      web_api_keys: [{ organisation: 'ps_dev', user: 'maytemplate', key: EXAMPLE_KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' }],
      consumers: [{ organisation: 'ps_dev', contact_information_id: EXAMPLE_CII, accounts_receivable_id: EXAMPLE_ARI }],
      identity_providers: [{
        issuer: EXAMPLE_ISSUER,
        audience: EXAMPLE_AUDIENCE,
        jwks: {
          keys: [
            { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
            { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
          ],
        },
      }],
      identity_links: [{ issuer: EXAMPLE_ISSUER, subject: EXAMPLE_IDENTITY_SUBJECT, organisation: 'ps_dev', accounts_receivable_id: EXAMPLE_ARI }],
    })
    refusal = (await present('a.b.c')).json.status.message
  })
  afterAll(async () => s?.stop())

  it('a valid RS256 token: 200, the linked consumer, the organisation consumer user and its default unit', async () => {
    const r = await present(await valid())
    expect(r.status, r.text).toBe(200)
    const claims = decodeJwtPart(r.json.data.token, 1)
    expect(claims).toMatchObject({ cii: EXAMPLE_CII, ari: EXAMPLE_ARI, org: 'ps_dev', usr: 'ps_consumer', oun: '2', iat: s.clock.now, exp: s.clock.now + 7200 })
  })

  it('a valid ES256 token, and tokens within the 30 s tolerance of exp and nbf', async () => {
    expect(outcome(await present(await sign(ec.privateKey, 'ES256', 'ec-1')))).toBe('OK')
    expect(outcome(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { exp: s.clock.now - 20 })))).toBe('OK')
    expect(outcome(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { nbf: s.clock.now + 20 })))).toBe('OK')
  })

  it('alg none', async () => {
    const [, payload] = (await valid()).split('.')
    expectRefused(await present(`${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`))
    expectRefused(await present(`${b64url({ alg: 'none', typ: 'JWT', kid: 'rsa-1' })}.${payload}.`))
  })

  it('HS256 signed with the provider public key bytes (algorithm confusion)', async () => {
    const pem = createPublicKey({ key: (await exportJWK(rsa.publicKey)) as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    const jwk = JSON.stringify({ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' })
    for (const secret of [pem, jwk]) {
      const now = s.clock.now
      const forged = await new SignJWT({ iss: EXAMPLE_ISSUER, aud: EXAMPLE_AUDIENCE, sub: EXAMPLE_IDENTITY_SUBJECT, exp: now + 300 })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .sign(new TextEncoder().encode(String(secret)))
      expectRefused(await present(forged))
    }
  })

  it('expired and not yet valid (beyond the 30 s tolerance)', async () => {
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iat: s.clock.now - 600, exp: s.clock.now - 31 })))
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { nbf: s.clock.now + 31 })))
  })

  it('issued in the future (beyond the 30 s tolerance), or living longer than the configured maximum', async () => {
    const now = s.clock.now
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iat: now + 86_400, exp: now + 86_400 + 300 })))
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iat: now, exp: now + 30_000_000 * 365 * 86_400 })))
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iat: now, exp: now + 3601 })))
    const hour = await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iat: now, exp: now + 3600 }))
    expect(hour.status, hour.text).toBe(200)
  })

  it('wrong issuer, wrong audience', async () => {
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iss: 'https://evil.example.com' })))
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { iss: `${EXAMPLE_ISSUER}/` })))
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { aud: 'another-api' })))
  })

  it('unknown kid, and a stranger key claiming a known kid', async () => {
    expectRefused(await present(await sign(stranger.privateKey, 'RS256', 'rsa-unknown')))
    expectRefused(await present(await sign(stranger.privateKey, 'RS256', 'rsa-1')))
  })

  it('tampered payload (another subject, a later exp) under the original signature', async () => {
    const token = await valid()
    const [header, , signature] = token.split('.') as [string, string, string]
    const claims = decodeJwtPart(token, 1) as JWTPayload
    expectRefused(await present(`${header}.${b64url({ ...claims, sub: 'u-43' })}.${signature}`))
    expectRefused(await present(`${header}.${b64url({ ...claims, exp: (claims.exp ?? 0) + 86_400 })}.${signature}`))
  })

  it('a valid token of an unlinked subject, and of a subject linked in another organisation only', async () => {
    expectRefused(await present(await sign(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'u-99' })))
    expectRefused(await present(await valid(), 'other'))
  })

  it('every refusal was audited as a failure of the IdentityJwt mode, and no token was issued for them', async () => {
    const events = await s.audit()
    const failed = events.flatMap((e) => (e.type === 'failed' ? [e] : []))
    expect(failed).toHaveLength(19)
    expect(failed.every((e) => e.mode === 'IdentityJwt' && e.code === 'INVALIDIDENTITYTOKEN')).toBe(true)
    const issued = events.flatMap((e) => (e.type === 'issued' ? [e] : []))
    expect(issued).toHaveLength(5)
    expect(issued.every((e) => e.mode === 'IdentityJwt' && e.accountsReceivableId === EXAMPLE_ARI && e.organisation === 'ps_dev')).toBe(true)
  })
})
