/** The signing key ring (SPEC 5, 6): exact header bytes, claim bytes, pinning, retirement, jose interoperability. */
import { createHmac, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { CompactSign, compactVerify, createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { describe, expect, it } from 'vitest'
import { createKeyRing } from '../../../adapters/crypto/create-key-ring.js'
import { createReloadableKeyRing } from '../../../adapters/crypto/reloadable-key-ring.js'
import { generateSigningKey } from '../../../adapters/crypto/generate-secrets.js'
import { SecretsError, type Secrets, type SigningKeySpec } from '../../../adapters/crypto/secrets-codec.js'
import type { Clock, SessionClaims } from '../../../core/index.js'
import { EXAMPLE_CLAIMS, EXAMPLE_PAYLOAD } from '../../support/example.js'
import { testClock } from '../../support/doubles.js'

const NOW = 1_700_000_000
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url')
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8')

/** Why the verifier refuses a token, as it says it. */
const SIGNATURE = 'the token signature is not valid'
const NOT_COMPACT = 'the token is not in the canonical compact form (three unpadded base64url parts)'
const NO_HEADER = 'the token is not a JWS with a readable header'
const NOT_ITS_ALGORITHM = 'the token algorithm is not the algorithm of its key'
const UNKNOWN_KEY = 'unknown or retired key'
/** The error a Promise rejects with (a plain Error saying so when it resolves instead). */
const rejection = (p: Promise<unknown>): Promise<Error> => p.then(() => new Error('resolved'), (e: unknown) => e as Error)

const hsKey = (kid: string, retiredAt?: number): SigningKeySpec & { alg: 'HS256' } => ({
  kid,
  alg: 'HS256',
  secret: randomBytes(32).toString('base64url'),
  ...(retiredAt === undefined ? {} : { retiredAt }),
})

/** Random claims of any text, with number or string times, in the issued order. */
const anyClaims = (() => {
  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  const time = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }).map(String))
  return fc.record({
    cii: text, usr: text, org: text, ari: text, oun: text, exp: time, iat: time,
    jti: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex').toUpperCase()),
  })
})()

const ringOf = (keys: SigningKeySpec[], activeKid: string, clock: Clock = testClock(NOW)) => createKeyRing({ signingKeys: keys, activeKid }, clock)

const numeric: SessionClaims = { ...EXAMPLE_CLAIMS, exp: NOW + 7200, iat: NOW }

const hmacToken = (headerJson: string, payloadJson: string, secret: Buffer) => {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

describe('createKeyRing: HS256', () => {
  it('signs with the header bytes of the documented example plus kid', async () => {
    const ring = await ringOf([hsKey('2026-01-01-a1b2c3d4')], '2026-01-01-a1b2c3d4')
    const token = await ring.signer.sign(numeric)
    const [header] = token.split('.')
    expect(unb64(header ?? '')).toBe('{"typ":"JWT","alg":"HS256","kid":"2026-01-01-a1b2c3d4"}')
    expect(ring.activeKid).toBe('2026-01-01-a1b2c3d4')
    expect(ring.alg).toBe('HS256')
  })

  it('keeps the claims byte for byte, in their order and types (string iat/exp)', async () => {
    const ring = await ringOf([hsKey('k1')], 'k1')
    const token = await ring.signer.sign(EXAMPLE_CLAIMS)
    expect(unb64(token.split('.')[1] ?? '')).toBe(EXAMPLE_PAYLOAD)
    expect(await ring.verifier.verify(token)).toEqual({ ok: true, payload: EXAMPLE_CLAIMS })
    const numberToken = await ring.signer.sign(numeric)
    expect(unb64(numberToken.split('.')[1] ?? '')).toContain(`"exp":${NOW + 7200},"iat":${NOW},`)
  })

  it('makes tokens that jose verifies with the same secret', async () => {
    const key = hsKey('k1')
    const ring = await ringOf([key], 'k1')
    const secret = Buffer.from(key.secret, 'base64url')
    const token = await ring.signer.sign(numeric)
    const { payload, protectedHeader } = await jwtVerify(token, secret, { algorithms: ['HS256'], currentDate: new Date(NOW * 1000) })
    expect(payload).toEqual(numeric)
    expect(protectedHeader).toEqual({ typ: 'JWT', alg: 'HS256', kid: 'k1' })
    await expect(compactVerify(await ring.signer.sign(EXAMPLE_CLAIMS), secret, { algorithms: ['HS256'] })).resolves.toBeDefined()
  })

  it('verifies tokens jose signed with a ring key, whatever their header order', async () => {
    const key = hsKey('k1')
    const ring = await ringOf([key], 'k1')
    const token = await new SignJWT({ ...numeric } as JWTPayload).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(Buffer.from(key.secret, 'base64url'))
    expect(await ring.verifier.verify(token)).toEqual({ ok: true, payload: numeric })
  })

  it('refuses a tampered payload, header or signature', async () => {
    const ring = await ringOf([hsKey('k1')], 'k1')
    const token = await ring.signer.sign(numeric)
    const [h, p, s] = token.split('.') as [string, string, string]
    const forged = b64(JSON.stringify({ ...numeric, ari: 'SOMEONE-ELSE' }))
    const flip = (x: string) => (x[0] === 'A' ? 'B' : 'A') + x.slice(1)
    for (const bad of [`${h}.${forged}.${s}`, `${h}.${p}.${flip(s)}`, `${h}.${p}.`, `${h}.${flip(p)}.${s}`]) {
      expect(await ring.verifier.verify(bad), bad).toEqual({ ok: false, reason: SIGNATURE })
    }
    for (const bad of [`${h}.${p}`, `${h}.${p}.${s}.x`]) expect(await ring.verifier.verify(bad), bad).toEqual({ ok: false, reason: NOT_COMPACT })
    const otherKid = b64('{"typ":"JWT","alg":"HS256","kid":"k1","x":1}')
    expect(await ring.verifier.verify(`${otherKid}.${p}.${s}`)).toEqual({ ok: false, reason: SIGNATURE })
  })

  it('refuses alg none, with or without a signature', async () => {
    const ring = await ringOf([hsKey('k1')], 'k1')
    const payload = b64(JSON.stringify(numeric))
    const nones: ReadonlyArray<readonly [string, string]> = [
      ['{"typ":"JWT","alg":"none","kid":"k1"}', NOT_ITS_ALGORITHM],
      ['{"alg":"none"}', UNKNOWN_KEY],
      ['{"typ":"JWT","alg":"NONE","kid":"k1"}', NOT_ITS_ALGORITHM],
    ]
    for (const [header, reason] of nones) {
      expect(await ring.verifier.verify(`${b64(header)}.${payload}.`)).toEqual({ ok: false, reason })
      expect(await ring.verifier.verify(`${b64(header)}.${payload}.c2ln`)).toEqual({ ok: false, reason })
    }
    expect(await ring.verifier.verify(`${b64('{"typ":"JWT","alg":"none","kid":"k1"}')}.${payload}.`)).toEqual({
      ok: false,
      reason: NOT_ITS_ALGORITHM,
    })
  })

  it('refuses an HS256 token signed with another secret, and unknown kids', async () => {
    const ring = await ringOf([hsKey('k1')], 'k1')
    const other = randomBytes(32)
    const payload = JSON.stringify(numeric)
    expect(await ring.verifier.verify(hmacToken('{"typ":"JWT","alg":"HS256","kid":"k1"}', payload, other))).toEqual({
      ok: false,
      reason: SIGNATURE,
    })
    expect(await ring.verifier.verify(hmacToken('{"typ":"JWT","alg":"HS256","kid":"k2"}', payload, other))).toEqual({
      ok: false,
      reason: UNKNOWN_KEY,
    })
    expect(await ring.verifier.verify(hmacToken('{"typ":"JWT","alg":"HS256"}', payload, other))).toEqual({
      ok: false,
      reason: UNKNOWN_KEY,
    })
  })

  it('refuses crit/b64 headers, non-object payloads and garbage, without throwing', async () => {
    const key = hsKey('k1')
    const secret = Buffer.from(key.secret, 'base64url')
    const ring = await ringOf([key], 'k1')
    const crit = hmacToken('{"alg":"HS256","kid":"k1","b64":false,"crit":["b64"]}', 'x', secret)
    expect(await ring.verifier.verify(crit)).toEqual({ ok: false, reason: 'the token header has parameters this service does not use' })
    for (const payload of ['[1,2]', '"text"', '42', 'null']) {
      expect(await ring.verifier.verify(hmacToken('{"typ":"JWT","alg":"HS256","kid":"k1"}', payload, secret)), payload).toEqual({ ok: false, reason: 'the token payload is not a JSON object' })
    }
    expect(await ring.verifier.verify(hmacToken('{"typ":"JWT","alg":"HS256","kid":"k1"}', 'not json', secret))).toEqual({ ok: false, reason: 'the token payload is not JSON' })
    const garbage: ReadonlyArray<readonly [string, string]> = [
      ['', NOT_COMPACT], ['.', NOT_COMPACT], ['..', NO_HEADER], ['a.b.c', NOT_COMPACT], ['!!!.???.###', NOT_COMPACT], ['eyJ.eyJ.x', NOT_COMPACT],
      [`${b64('[]')}.e30.`, NO_HEADER], [`${b64('{"kid":{}}')}.e30.`, UNKNOWN_KEY],
    ]
    for (const [token, reason] of garbage) expect(await ring.verifier.verify(token), token).toEqual({ ok: false, reason })
    expect(await ring.verifier.verify(undefined as unknown as string)).toEqual({ ok: false, reason: 'the token is not a string' })
  })

  it('verifies with a retired key until retiredAt + 7230, then refuses it', async () => {
    const old = hsKey('old', NOW)
    const current = hsKey('new')
    const signedBeforeRetirement = await (await ringOf([{ ...old, retiredAt: undefined } as SigningKeySpec], 'old')).signer.sign(numeric)
    const clock = testClock(NOW + 7229)
    const ring = await ringOf([old, current], 'new', clock)
    expect((await ring.verifier.verify(signedBeforeRetirement)).ok).toBe(true)
    expect(ring.activeKid).toBe('new')
    expect(decodeProtectedHeader(await ring.signer.sign(numeric)).kid).toBe('new')
    clock.now = NOW + 7230
    expect(await ring.verifier.verify(signedBeforeRetirement)).toEqual({ ok: false, reason: UNKNOWN_KEY })
    clock.now = NOW + 100_000
    expect(await ring.verifier.verify(signedBeforeRetirement)).toEqual({ ok: false, reason: UNKNOWN_KEY })
  })

  it('refuses a ring whose configuration is wrong, naming no secret', async () => {
    const key = hsKey('k1')
    await expect(ringOf([key], 'k2')).rejects.toThrow(SecretsError)
    await expect(ringOf([{ ...key, retiredAt: 1 }], 'k1')).rejects.toThrow(/retired/)
    const err = await rejection(ringOf([{ ...key, secret: key.secret.slice(0, 30) }], 'k1'))
    expect(err).toBeInstanceOf(SecretsError)
    expect(err.message).not.toContain(key.secret.slice(0, 30))
    expect((await ringOf([key], 'k1')).publicJwks()).toEqual({ keys: [] })
  })

  it('property: sign then verify answers the same payload', async () => {
    const ring = await ringOf([hsKey('k1')], 'k1')
    await fc.assert(
      fc.asyncProperty(anyClaims, async (c) => {
        const token = await ring.signer.sign(c)
        const r = await ring.verifier.verify(token)
        expect(r).toEqual({ ok: true, payload: c })
        if (r.ok) expect(Object.keys(r.payload as object)).toEqual(['cii', 'usr', 'org', 'ari', 'oun', 'exp', 'iat', 'jti'])
      }),
      { numRuns: 300 },
    )
  })
})

describe('the node:crypto HS256 signer against jose', () => {
  it('property: its compact JWS is byte-identical to jose CompactSign over the same header and claims, and jose verifies it', async () => {
    const spec = hsKey('k1')
    const ring = await ringOf([spec], 'k1')
    const secret = Buffer.from(spec.secret, 'base64url')
    await fc.assert(
      fc.asyncProperty(anyClaims, async (c) => {
        const ours = await ring.signer.sign(c)
        const theirs = await new CompactSign(new TextEncoder().encode(JSON.stringify(c)))
          .setProtectedHeader({ typ: 'JWT', alg: 'HS256', kid: 'k1' })
          .sign(secret)
        expect(ours).toBe(theirs)
        await expect(compactVerify(ours, secret, { algorithms: ['HS256'] })).resolves.toBeDefined()
      }),
      { numRuns: 500 },
    )
  })
})

describe.each(['ES256', 'EdDSA'] as const)('createKeyRing: %s', (alg) => {
  it('signs and verifies; jose verifies with the published JWKS, which has no private parts', async () => {
    const key = await generateSigningKey(alg, 'a1')
    const ring = await ringOf([key], 'a1')
    expect(ring.alg).toBe(alg)
    const token = await ring.signer.sign(numeric)
    expect(unb64(token.split('.')[0] ?? '')).toBe(`{"typ":"JWT","alg":"${alg}","kid":"a1"}`)
    expect(await ring.verifier.verify(token)).toEqual({ ok: true, payload: numeric })
    const jwks = ring.publicJwks()
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).toMatchObject({ kid: 'a1', alg, use: 'sig' })
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d')
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: [alg], currentDate: new Date(NOW * 1000) })
    expect(payload).toEqual(numeric)
  })

  it('refuses tampering, HS256 made with the public key, and another key of the same kid', async () => {
    const key = await generateSigningKey(alg, 'a1')
    const ring = await ringOf([key], 'a1')
    const token = await ring.signer.sign(numeric)
    const [h, , s] = token.split('.') as [string, string, string]
    expect(await ring.verifier.verify(`${h}.${b64(JSON.stringify({ ...numeric, usr: 'root' }))}.${s}`)).toEqual({ ok: false, reason: SIGNATURE })
    const publicBytes = Buffer.from(JSON.stringify(ring.publicJwks().keys[0]))
    expect(await ring.verifier.verify(hmacToken('{"typ":"JWT","alg":"HS256","kid":"a1"}', JSON.stringify(numeric), publicBytes))).toEqual({ ok: false, reason: NOT_ITS_ALGORITHM })
    const impostor = await ringOf([await generateSigningKey(alg, 'a1')], 'a1')
    expect(await ring.verifier.verify(await impostor.signer.sign(numeric))).toEqual({ ok: false, reason: SIGNATURE })
  })

  it('publishes retired keys only while their tokens can be valid', async () => {
    const clock = testClock(NOW)
    const ring = await ringOf([{ ...(await generateSigningKey(alg, 'old')), retiredAt: NOW }, await generateSigningKey(alg, 'new')], 'new', clock)
    expect(ring.publicJwks().keys.map((k) => k.kid)).toEqual(['old', 'new'])
    clock.now = NOW + 7230
    expect(ring.publicJwks().keys.map((k) => k.kid)).toEqual(['new'])
  })

  it('refuses a private JWK whose public part belongs to another key', async () => {
    const a = await generateSigningKey(alg, 'a1')
    const b = await generateSigningKey(alg, 'a1')
    if (a.alg === 'HS256' || b.alg === 'HS256') throw new Error('unexpected')
    const mixed = { ...a, privateJwk: { ...a.privateJwk, x: b.privateJwk.x, ...(alg === 'ES256' ? { y: b.privateJwk.y } : {}) } }
    const err = await rejection(ringOf([mixed], 'a1'))
    expect(err).toBeInstanceOf(SecretsError)
    expect(err.message).not.toContain(a.privateJwk.d)
  })
})

describe('a mixed ring (rotation from HS256 to ES256)', () => {
  it('verifies both, pins each key to its own algorithm, signs with the active one', async () => {
    const hs = hsKey('hs', NOW)
    const es = await generateSigningKey('ES256', 'es')
    const before = await (await ringOf([{ ...hs, retiredAt: undefined } as SigningKeySpec], 'hs')).signer.sign(numeric)
    const ring = await ringOf([hs, es], 'es')
    expect((await ring.verifier.verify(before)).ok).toBe(true)
    const after = await ring.signer.sign(numeric)
    expect(decodeProtectedHeader(after)).toEqual({ typ: 'JWT', alg: 'ES256', kid: 'es' })
    expect((await ring.verifier.verify(after)).ok).toBe(true)
    // An HS256 token naming the ES256 key's kid is refused before any HMAC is computed.
    const confused = hmacToken('{"typ":"JWT","alg":"HS256","kid":"es"}', JSON.stringify(numeric), Buffer.from(hs.secret, 'base64url'))
    expect(await ring.verifier.verify(confused)).toEqual({ ok: false, reason: NOT_ITS_ALGORITHM })
  })
})

describe('createReloadableKeyRing', () => {
  it('swaps the ring behind a stable object; a failed reload keeps the current one', async () => {
    const k1 = hsKey('k1')
    const k2 = hsKey('k2')
    let secrets: Pick<Secrets, 'signingKeys' | 'activeKid'> = { signingKeys: [k1], activeKid: 'k1' }
    const { ring, reload } = await createReloadableKeyRing(async () => secrets, testClock(NOW))
    const first = await ring.signer.sign(numeric)
    expect(ring.activeKid).toBe('k1')

    secrets = { signingKeys: [{ ...k1, retiredAt: NOW }, k2], activeKid: 'k2' }
    await reload()
    expect(ring.activeKid).toBe('k2')
    expect(decodeProtectedHeader(await ring.signer.sign(numeric)).kid).toBe('k2')
    expect((await ring.verifier.verify(first)).ok).toBe(true)

    secrets = { signingKeys: [k2], activeKid: 'missing' }
    await expect(reload()).rejects.toThrow(SecretsError)
    expect(ring.activeKid).toBe('k2')
    expect((await ring.verifier.verify(first)).ok).toBe(true)
  })
})
