/**
 * SPEC 5, 6: ES256 and EdDSA rings, chosen for generated secrets by SIGNING_ALG (--signing-alg), publish their public
 * keys at /.well-known/jwks.json, so that a service holding no secret verifies session tokens with any standard JWT
 * library (here jose's createRemoteJWKSet), or with createSessionVerifier({ jwksUrl }). Rotation shows in the JWKS
 * without a restart.
 */
import { createHmac } from 'node:crypto'
import { createServer } from 'node:net'
import { compactVerify, createRemoteJWKSet, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSigningKey } from '../../adapters/crypto/generate-secrets.js'
import { createSessionVerifier, type EmbeddedSessionVerifier } from '../../adapters/http/index.js'
import { rawRequest, startTestService, type TestService } from '../support/service.js'
import { issueToken, kidOf, readSecrets, secretsPath, signWith, writeSecrets } from './support.js'
import { decodeJwtPart } from '../support/jwt.js'
import { EXAMPLE_SUBJECT } from '../support/example.js'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
const jwksUrl = (svc: TestService) => new URL(`${svc.url}/.well-known/jwks.json`)

const refusedBecause = async (sessions: EmbeddedSessionVerifier, token: string): Promise<string> => {
  const r = await sessions.verifyToken(token)
  if (!('error' in r)) throw new Error('the token was accepted')
  expect(r.error.name).toBe('INVALIDTOKEN')
  return r.error.message
}

describe('an ES256 ring (SIGNING_ALG=ES256 for generated secrets)', () => {
  let svc: TestService
  let token: string
  let sessions: EmbeddedSessionVerifier

  beforeAll(async () => {
    svc = await startTestService({ 'signing-alg': 'ES256' })
    token = await issueToken(svc.url)
    sessions = await createSessionVerifier({ jwksUrl: jwksUrl(svc), jwks: { cooldownSeconds: 0 } })
  })
  afterAll(async () => svc?.stop())

  it('generates an ES256 key and signs with it', () => {
    const secrets = readSecrets(secretsPath(svc))
    expect(secrets.signingKeys.map((k) => k.alg)).toEqual(['ES256'])
    expect(decodeJwtPart(token, 0)).toEqual({ typ: 'JWT', alg: 'ES256', kid: secrets.activeKid })
  })

  it('publishes the public key, and nothing private, at /.well-known/jwks.json', async () => {
    const r = await rawRequest(svc.url, { method: 'GET', path: '/.well-known/jwks.json' })
    expect(r.status).toBe(200)
    expect(r.json.keys).toHaveLength(1)
    expect(r.json.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: kidOf(token), alg: 'ES256', use: 'sig' })
    expect(Object.keys(r.json.keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
    // What bounds how long an embedding verifier keeps a withdrawn key (docs/key-rotation.md).
    expect(r.headers['cache-control']).toBe('public, max-age=60')
  })

  it('a token verifies with jose createRemoteJWKSet + jwtVerify, holding no secret', async () => {
    const JWKS = createRemoteJWKSet(jwksUrl(svc))
    const { payload, protectedHeader } = await jwtVerify(token, JWKS, { algorithms: ['ES256'], typ: 'JWT' })
    expect(protectedHeader.kid).toBe(kidOf(token))
    expect(payload).toMatchObject({ cii: EXAMPLE_SUBJECT.contactInformationId, ari: EXAMPLE_SUBJECT.accountsReceivableId, usr: 'maytemplate', org: 'ps_dev', oun: '1' })
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(7200)
  })

  it('a token verifies with createSessionVerifier({ jwksUrl }) into the typed session', async () => {
    const r = await sessions.verifyToken(token)
    expect('session' in r && r.session).toMatchObject({ ...EXAMPLE_SUBJECT, unit: '1' })
  })

  it('refuses tampered, alg none, HS256 made with the public key, and unknown kids', async () => {
    const [h, p, s] = token.split('.') as [string, string, string]
    const claims = decodeJwtPart(token, 1)
    const other = b64({ ...claims, ari: '7C1D0A2B3E4F405162738495A6B7C8D9' })
    expect(await refusedBecause(sessions, `${h}.${other}.${s}`)).toContain('signature')
    expect(await refusedBecause(sessions, `${b64({ typ: 'JWT', alg: 'none', kid: kidOf(token) })}.${p}.`)).toContain('algorithm')
    const jwk = ((await (await fetch(jwksUrl(svc))).json()) as { keys: Array<{ x: string }> }).keys[0]!
    const confusedInput = `${b64({ typ: 'JWT', alg: 'HS256', kid: kidOf(token) })}.${p}`
    for (const secret of [JSON.stringify(jwk), Buffer.from(jwk.x, 'base64url')]) {
      const sig = createHmac('sha256', secret).update(confusedInput).digest('base64url')
      expect(await refusedBecause(sessions, `${confusedInput}.${sig}`)).toContain('algorithm')
    }
    const stranger = await generateSigningKey('ES256', 'not-published')
    expect(await refusedBecause(sessions, await signWith(stranger))).toContain('unknown or retired key')
    const sameKidOtherKey = await generateSigningKey('ES256', String(kidOf(token)))
    expect(await refusedBecause(sessions, await signWith(sameKidOtherKey))).toContain('signature')
  })

  it('after a rotation (SIGHUP / reloadKeys), publishes both keys and verifies both tokens, without a restart', async () => {
    const path = secretsPath(svc)
    const before = readSecrets(path)
    const next = await generateSigningKey('ES256', 'es256-rotated')
    // Round one (docs/key-rotation.md): the new key joins the ring, not yet active; it is published at once.
    writeSecrets(path, { ...before, signingKeys: [...before.signingKeys, next] })
    await svc.reloadKeys()
    const published = await rawRequest(svc.url, { method: 'GET', path: '/.well-known/jwks.json' })
    expect(published.json.keys.map((k: { kid: string }) => k.kid)).toContain('es256-rotated')
    expect(kidOf(await issueToken(svc.url))).toBe(before.activeKid)
    // Round two: it becomes active, the old one retires.
    writeSecrets(path, {
      ...before,
      signingKeys: [next, ...before.signingKeys.map((k) => ({ ...k, retiredAt: Math.floor(Date.now() / 1000) }))],
      activeKid: next.kid,
    })
    await svc.reloadKeys()
    const newToken = await issueToken(svc.url)
    expect(kidOf(newToken)).toBe('es256-rotated')
    const r = await rawRequest(svc.url, { method: 'GET', path: '/.well-known/jwks.json' })
    expect(r.json.keys.map((k: { kid: string }) => k.kid).sort()).toEqual([before.activeKid, 'es256-rotated'].sort())
    // The verifier had cached the old key set: the unknown kid makes it fetch again.
    expect('session' in (await sessions.verifyToken(newToken))).toBe(true)
    expect('session' in (await sessions.verifyToken(token))).toBe(true)
    const JWKS = createRemoteJWKSet(jwksUrl(svc))
    await expect(jwtVerify(newToken, JWKS, { algorithms: ['ES256'] })).resolves.toBeDefined()
  })

  it('answers SERVICEUNAVAILABLE, not INVALIDTOKEN, when the key set cannot be fetched', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port
        probe.close(() => resolve(p))
      })
    })
    const unreachable = await createSessionVerifier({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, jwks: { timeoutSeconds: 1 } })
    const r = await unreachable.verifyToken(token)
    expect('error' in r && r.error.name).toBe('SERVICEUNAVAILABLE')
  })
})

describe('an EdDSA ring with string claim times', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ 'signing-alg': 'EdDSA', 'claim-times': 'string' })
  })
  afterAll(async () => svc?.stop())

  it('publishes an OKP key; jose verifies the signature, and createSessionVerifier the whole session', async () => {
    const token = await issueToken(svc.url)
    expect(decodeJwtPart(token, 0)['alg']).toBe('EdDSA')
    expect(typeof decodeJwtPart(token, 1)['exp']).toBe('string')
    const JWKS = createRemoteJWKSet(jwksUrl(svc))
    const { payload } = await compactVerify(token, JWKS, { algorithms: ['EdDSA'] })
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ ari: EXAMPLE_SUBJECT.accountsReceivableId })
    // RFC 7519 libraries want numeric times: jwtVerify refuses the documented example's string form...
    await expect(jwtVerify(token, JWKS, { algorithms: ['EdDSA'] })).rejects.toThrow(/must be a number/)
    // ...which the core accepts.
    const sessions = await createSessionVerifier({ jwksUrl: jwksUrl(svc) })
    const r = await sessions.verifyToken(token)
    expect('session' in r && r.session.accountsReceivableId).toBe(EXAMPLE_SUBJECT.accountsReceivableId)
  })
})

describe('an HS256 ring (the default)', () => {
  it('publishes no JWKS', async () => {
    const svc = await startTestService()
    try {
      const r = await rawRequest(svc.url, { method: 'GET', path: '/.well-known/jwks.json' })
      expect(r.status).toBe(404)
    } finally {
      await svc.stop()
    }
  })
})
