/** identityVerifier (SPEC 4, IdentityJwt): valid provider tokens, the classic attacks, the provider cache. */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { identityVerifier } from '../../../adapters/identity/identity-verifier.js'
import type { IdentityProvider } from '../../../core/index.js'
import { testClock } from '../../support/doubles.js'
import { EXAMPLE_ISSUER } from '../../support/example.js'

const NOW = 1_800_000_000
const AUD = 'crm'
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url')

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
interface TestKey {
  readonly alg: Alg
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly jwk: JWK
}

const makeKey = async (alg: Alg, kid: string): Promise<TestKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid } }
}

let keys: Record<Alg, TestKey>
let outsider: TestKey
let provider: IdentityProvider

beforeAll(async () => {
  keys = {
    RS256: await makeKey('RS256', 'rsa'),
    PS256: await makeKey('PS256', 'pss'),
    ES256: await makeKey('ES256', 'ec'),
    EdDSA: await makeKey('EdDSA', 'ed'),
  }
  outsider = await makeKey('RS256', 'rsa')
  provider = { issuer: EXAMPLE_ISSUER, audience: AUD, jwks: { keys: Object.values(keys).map((k) => k.jwk as Record<string, unknown>) } }
})

/** A token as a provider would sign it; `claims` and `header` override the defaults, `undefined` removes. */
const token = (key: TestKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}) => {
  const payload: JWTPayload = { iss: EXAMPLE_ISSUER, aud: AUD, sub: 'u-42', iat: NOW - 10, exp: NOW + 300, ...claims }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k]
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header } as never).sign(key.privateKey)
}

const verifier = (providers: IdentityProvider[] = [provider], now = NOW) => identityVerifier(async () => providers, testClock(now))

const refused = async (jwt: string, v = verifier()) => {
  const r = await v.verify(jwt)
  expect(r.ok).toBe(false)
  return r.ok ? '' : r.reason
}

describe('identityVerifier: valid tokens', () => {
  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'] as const)('accepts %s and answers issuer and subject', async (alg) => {
    expect(await verifier().verify(await token(keys[alg]))).toEqual({ ok: true, identity: { issuer: EXAMPLE_ISSUER, subject: 'u-42' } })
  })

  it('accepts an audience list that contains the provider audience', async () => {
    expect((await verifier().verify(await token(keys.ES256, { aud: ['other', AUD] }))).ok).toBe(true)
  })

  it('accepts exp and nbf within the 30 s tolerance', async () => {
    expect((await verifier().verify(await token(keys.RS256, { exp: NOW - 29 }))).ok).toBe(true)
    expect((await verifier().verify(await token(keys.RS256, { nbf: NOW + 29 }))).ok).toBe(true)
  })

  it('accepts a token without kid when several keys could match (provider key rotation)', async () => {
    const second = await makeKey('ES256', 'ec2')
    const rotating: IdentityProvider = { ...provider, jwks: { keys: [keys.ES256.jwk, second.jwk].map((k) => k as Record<string, unknown>) } }
    const jwt = await token(second, {}, { kid: undefined })
    expect((await verifier([rotating]).verify(jwt)).ok).toBe(true)
    const stranger = await makeKey('ES256', 'x')
    expect(await refused(await token(stranger, {}, { kid: undefined }), verifier([rotating]))).toBe('the identity token signature is not valid')
  })

  it('tries every provider of an issuer (one issuer, several audiences)', async () => {
    const other: IdentityProvider = { ...provider, audience: 'billing' }
    const r = await verifier([provider, other]).verify(await token(keys.EdDSA, { aud: 'billing' }))
    expect(r).toEqual({ ok: true, identity: { issuer: EXAMPLE_ISSUER, subject: 'u-42' } })
  })
})

describe('identityVerifier: attacks and bad tokens are refused, never thrown', () => {
  it('alg none', async () => {
    const unsecured = new UnsecuredJWT({ sub: 'u-42' }).setIssuer(EXAMPLE_ISSUER).setAudience(AUD).setExpirationTime(NOW + 300).encode()
    expect(await refused(unsecured)).toMatch(/algorithm is not allowed/)
    const withKid = `${b64('{"alg":"none","kid":"rsa"}')}.${unsecured.split('.')[1]}.`
    expect(await refused(withKid)).toMatch(/algorithm is not allowed/)
  })

  it('HS256 signed with the provider public key bytes (algorithm confusion)', async () => {
    const payload = { iss: EXAMPLE_ISSUER, aud: AUD, sub: 'admin', exp: NOW + 300 }
    const pem = await exportSPKI(keys.RS256.publicKey)
    for (const secret of [pem, JSON.stringify(keys.RS256.jwk), `${pem}\n`]) {
      const input = `${b64(JSON.stringify({ alg: 'HS256', kid: 'rsa', typ: 'JWT' }))}.${b64(JSON.stringify(payload))}`
      const jwt = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
      expect(await refused(jwt)).toMatch(/algorithm is not allowed/)
    }
    // Even if a provider's JWKS (wrongly) carried a symmetric key, HS256 is never accepted with it.
    const secret = Buffer.from(pem)
    const withOct: IdentityProvider = { ...provider, jwks: { keys: [{ kty: 'oct', k: secret.toString('base64url'), kid: 'rsa' }, keys.RS256.jwk as Record<string, unknown>] } }
    const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'rsa' }).sign(secret)
    expect(await refused(hs, verifier([withOct]))).toBe('the identity token algorithm is not allowed (allowed: RS256, PS256, ES256, EdDSA)')
  })

  it('expired beyond 30 s, and not valid yet beyond 30 s', async () => {
    expect(await refused(await token(keys.RS256, { exp: NOW - 31 }))).toBe('the identity token has expired')
    expect(await refused(await token(keys.RS256, { nbf: NOW + 31 }))).toBe('the identity token is not valid yet')
  })

  it('wrong issuer, unknown issuer, no issuer', async () => {
    expect(await refused(await token(keys.RS256, { iss: 'https://evil.example.com' }))).toBe(
      'the identity token issuer is not a configured identity provider',
    )
    expect(await refused(await token(keys.RS256, { iss: undefined }))).toBe('the identity token has no issuer')
    // The issuer's name on a token signed by someone else: the outsider's key has the provider's kid.
    expect(await refused(await token(outsider))).toBe('the identity token signature is not valid')
  })

  it('wrong or missing audience', async () => {
    expect(await refused(await token(keys.ES256, { aud: 'someone-else' }))).toBe('the identity token is not meant for this audience')
    expect(await refused(await token(keys.ES256, { aud: undefined }))).toBe('the identity token is not meant for this audience')
  })

  it('unknown kid', async () => {
    expect(await refused(await token(keys.ES256, {}, { kid: 'nope' }))).toBe('no key of the identity provider matches the identity token')
  })

  it('a key whose algorithm does not fit the key (ES256 header on an RSA kid)', async () => {
    expect(await refused(await token(keys.ES256, {}, { kid: 'rsa' }))).toBe('no key of the identity provider matches the identity token')
  })

  it('tampered payload and tampered signature', async () => {
    const [h, , s] = (await token(keys.RS256)).split('.') as [string, string, string]
    const forged = b64(JSON.stringify({ iss: EXAMPLE_ISSUER, aud: AUD, sub: 'admin', exp: NOW + 300 }))
    expect(await refused(`${h}.${forged}.${s}`)).toBe('the identity token signature is not valid')
    const [h2, p2, s2] = (await token(keys.EdDSA)).split('.') as [string, string, string]
    // One character in the middle always changes a whole byte (the last one may carry padding bits only).
    const flipped = `${s2.slice(0, 10)}${s2[10] === 'A' ? 'B' : 'A'}${s2.slice(11)}`
    expect(await refused(`${h2}.${p2}.${flipped}`)).toBe('the identity token signature is not valid')
  })

  it('missing or unusable sub, missing exp', async () => {
    expect(await refused(await token(keys.RS256, { sub: undefined }))).toMatch(/sub/)
    expect(await refused(await token(keys.RS256, { sub: '  ' }))).toMatch(/sub/)
    expect(await refused(await token(keys.RS256, { sub: 42 as unknown as string }))).toMatch(/sub|claim/)
    expect(await refused(await token(keys.RS256, { exp: undefined }))).toMatch(/exp/)
  })

  it('an RSA key below 2048 bits', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weak: IdentityProvider = { ...provider, jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'weak' }] } }
    // jose will not even sign with it, so the token is made by hand.
    const input = `${b64('{"alg":"RS256","kid":"weak"}')}.${b64(JSON.stringify({ iss: EXAMPLE_ISSUER, aud: AUD, sub: 'u', exp: NOW + 300 }))}`
    const jwt = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
    expect(await refused(jwt, verifier([weak]))).toBe('the identity token cannot be verified')
  })

  it('garbage, empty and oversized input', async () => {
    const garbage: ReadonlyArray<readonly [string, string]> = [
      ['', 'no identity token was given'],
      ['x', 'the identity token is not a JWT'],
      ['a.b.c', 'the identity token is not a JWT'],
      ['..', 'the identity token is not a JWT'],
      [`${b64('{"alg":"RS256"}')}.${b64('[]')}.x`, 'the identity token is not a JWT'],
      [`${b64('{}')}.${b64('{"iss":7}')}.x`, 'the identity token has no issuer'],
      ['e'.repeat(20_000), 'the identity token is too long'],
    ]
    for (const [bad, reason] of garbage) expect(await refused(bad), bad.slice(0, 40)).toBe(reason)
    expect(await refused(undefined as unknown as string)).toBe('no identity token was given')
  })

  it('a provider whose JWKS is unusable refuses its tokens without failing', async () => {
    const broken: IdentityProvider = { ...provider, jwks: { keys: 'nope' as unknown as [] } }
    expect(await refused(await token(keys.RS256), verifier([broken]))).toBe('the identity provider has no usable keys')
    const privateOnly: IdentityProvider = { ...provider, jwks: { keys: [{ ...(await exportJWK(keys.ES256.privateKey)), kid: 'ec' }] } }
    expect(await refused(await token(keys.ES256), verifier([privateOnly]))).toBe('the identity token cannot be verified')
  })
})

describe('identityVerifier: provider cache', () => {
  it('asks the provider source once per cache period, and once for concurrent calls', async () => {
    let calls = 0
    const clock = testClock(NOW)
    const v = identityVerifier(async () => {
      calls++
      return [provider]
    }, clock)
    const jwt = await token(keys.ES256)
    const all = await Promise.all(Array.from({ length: 10 }, () => v.verify(jwt)))
    expect(all.every((r) => r.ok)).toBe(true)
    expect(calls).toBe(1)
    clock.advance(29)
    await v.verify(jwt)
    expect(calls).toBe(1)
    clock.advance(1)
    await v.verify(jwt)
    expect(calls).toBe(2)
  })

  it('sees provider changes after the cache period; cacheSeconds 0 always asks', async () => {
    let list: IdentityProvider[] = []
    const clock = testClock(NOW)
    const v = identityVerifier(async () => list, clock, { cacheSeconds: 5 })
    const jwt = await token(keys.RS256)
    const unknownIssuer = 'the identity token issuer is not a configured identity provider'
    expect(await refused(jwt, v)).toBe(unknownIssuer)
    list = [provider]
    expect(await refused(jwt, v), 'the provider list is still cached').toBe(unknownIssuer)
    clock.advance(5)
    expect((await v.verify(jwt)).ok).toBe(true)

    let calls = 0
    const uncached = identityVerifier(async () => (calls++, [provider]), testClock(NOW), { cacheSeconds: 0 })
    await uncached.verify(jwt)
    await uncached.verify(jwt)
    expect(calls).toBe(2)
  })

  it('rejects when the provider source fails (the store is down), and recovers', async () => {
    let down = true
    const v = identityVerifier(async () => {
      if (down) throw new Error('store down')
      return [provider]
    }, testClock(NOW))
    const jwt = await token(keys.RS256)
    await expect(v.verify(jwt)).rejects.toThrow('store down')
    down = false
    expect((await v.verify(jwt)).ok).toBe(true)
  })

  it('does not ask the provider source for tokens that are not JWTs', async () => {
    let calls = 0
    const v = identityVerifier(async () => (calls++, [provider]), testClock(NOW))
    await v.verify('not a jwt')
    expect(calls).toBe(0)
  })
})

describe('identityVerifier: lifetime and issue time', () => {
  it.each([
    ['exp 24 h after iat (the default maximum)', { iat: NOW - 10, exp: NOW - 10 + 86_400 }, true],
    ['exp 24 h + 1 s after iat', { iat: NOW - 10, exp: NOW - 10 + 86_401 }, false],
    ['exp 30 million years ahead', { iat: NOW - 10, exp: NOW + 30_000_000 * 365 * 86_400 }, false],
    ['no iat, exp 24 h from now', { iat: undefined, exp: NOW + 86_400 }, true],
    ['no iat, exp 24 h + 1 s from now', { iat: undefined, exp: NOW + 86_401 }, false],
    ['iat long ago, exp soon, a lifetime over 24 h', { iat: NOW - 86_400, exp: NOW + 60 }, false],
  ])('the maximum lifetime (exp - iat, or exp - now without iat): %s', async (_what, claims, accepted) => {
    const r = await verifier().verify(await token(keys.ES256, claims))
    expect(r.ok).toBe(accepted)
    if (!accepted) expect(!r.ok && r.reason).toMatch(/lives longer than the maximum lifetime of 86400 s/)
  })

  it('the maximum lifetime is configurable', async () => {
    const hourly = identityVerifier(async () => [provider], testClock(NOW), { maxLifetimeSeconds: 3600 })
    expect((await hourly.verify(await token(keys.RS256, { iat: NOW, exp: NOW + 3600 }))).ok).toBe(true)
    const r = await hourly.verify(await token(keys.RS256, { iat: NOW, exp: NOW + 3601 }))
    expect(!r.ok && r.reason).toMatch(/maximum lifetime of 3600 s/)
  })

  it.each([
    ['30 s ahead (the tolerance)', NOW + 30, true],
    ['31 s ahead', NOW + 31, false],
    ['a day ahead', NOW + 86_400, false],
  ])('an iat in the future: %s', async (_what, iat, accepted) => {
    const r = await verifier().verify(await token(keys.EdDSA, { iat, exp: NOW + 300 }))
    expect(r.ok).toBe(accepted)
    if (!accepted) expect(!r.ok && r.reason).toMatch(/issued in the future/)
  })
})
