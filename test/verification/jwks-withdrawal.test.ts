/**
 * How long an embedding service accepts a key the server withdrew from its JWKS: createSessionVerifier({ jwksUrl })
 * fetches the key set again when the server's `Cache-Control: max-age` has passed (60 s when it sends none), never
 * later than its cap (`jwks.cacheSeconds`, default 300 s), and refuses the withdrawn key's tokens from then on. A
 * local JWKS server whose key set the test changes, and a clock the test moves.
 */
import { createServer, type Server } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSigningKey } from '../../adapters/crypto/generate-secrets.js'
import type { SigningKeySpec } from '../../adapters/crypto/secrets-codec.js'
import { systemClock } from '../../adapters/clock/system-clock.js'
import { createKeyRing } from '../../adapters/crypto/create-key-ring.js'
import { createSessionVerifier } from '../../adapters/http/index.js'
import { startTestService, type TestService } from '../support/service.js'
import { issueToken, readSecrets, secretsPath, signWith, writeSecrets } from './support.js'
import { testClock } from '../support/doubles.js'

/** A JWKS server: answers the public keys of `keys` with `cacheControl`, and counts its fetches. */
const jwksServer = () => {
  const state = { keys: [] as SigningKeySpec[], cacheControl: undefined as string | undefined, fetches: 0 }
  const server: Server = createServer((req, res) => {
    state.fetches++
    void createKeyRing({ signingKeys: state.keys, activeKid: state.keys[0]!.kid }, systemClock).then((ring) => {
      res.writeHead(200, { 'content-type': 'application/json', ...(state.cacheControl === undefined ? {} : { 'cache-control': state.cacheControl }) })
      res.end(JSON.stringify(ring.publicJwks()))
    })
  })
  return { state, server }
}

describe('a key withdrawn from the JWKS', () => {
  const { state, server } = jwksServer()
  let url: string
  let leaked: SigningKeySpec
  let next: SigningKeySpec
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`
    leaked = await generateSigningKey('ES256', 'leaked')
    next = await generateSigningKey('ES256', 'next')
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  afterEach(() => {
    state.fetches = 0
  })

  /** Publishes `leaked` and `next`, lets a verifier cache them, then withdraws `leaked`; answers when it is refused. */
  const secondsUntilRefused = async (cacheControl: string | undefined, jwks: { cacheSeconds?: number } = {}): Promise<number> => {
    state.keys = [next, leaked]
    state.cacheControl = cacheControl
    const clock = testClock('runs')
    const sessions = await createSessionVerifier({ jwksUrl: url, clock, jwks })
    const token = await signWith(leaked)
    expect('session' in (await sessions.verifyToken(token))).toBe(true)
    // The leaked-key procedure: the key leaves the ring, so the server stops publishing it.
    state.keys = [next]
    for (let elapsed = 0; elapsed <= 3600; elapsed++) {
      if (elapsed > 0) clock.advance(1)
      const r = await sessions.verifyToken(token)
      if ('error' in r) {
        expect(r.error.name).toBe('INVALIDTOKEN')
        expect(r.error.message).toContain('unknown or retired key')
        // The key that stays goes on verifying.
        expect('session' in (await sessions.verifyToken(await signWith(next)))).toBe(true)
        return elapsed
      }
    }
    return Infinity
  }

  it('is refused once the max-age the server sent has passed', async () => {
    const bound = await secondsUntilRefused('public, max-age=60')
    expect(bound).toBeGreaterThan(30)
    expect(bound).toBeLessThanOrEqual(60)
    const short = await secondsUntilRefused('max-age=5')
    expect(short).toBeGreaterThan(0)
    expect(short).toBeLessThanOrEqual(5)
  })

  it('is refused after 60 s when the server sends no max-age', async () => {
    const bound = await secondsUntilRefused(undefined)
    expect(bound).toBeGreaterThan(30)
    expect(bound).toBeLessThanOrEqual(60)
  })

  it('is refused after the cap (default 300 s, configurable) however long the server says keys may be kept', async () => {
    const bound = await secondsUntilRefused('public, max-age=86400')
    expect(bound).toBeGreaterThan(150)
    expect(bound).toBeLessThanOrEqual(300)
    const capped = await secondsUntilRefused('public, max-age=86400', { cacheSeconds: 20 })
    expect(capped).toBeGreaterThan(10)
    expect(capped).toBeLessThanOrEqual(20)
  })

  it('fetches the key set once however many verifications run at once, and again only as its freshness runs out', async () => {
    state.keys = [next]
    state.cacheControl = 'max-age=60'
    const clock = testClock('runs')
    const sessions = await createSessionVerifier({ jwksUrl: url, clock })
    const tokens = await Promise.all(Array.from({ length: 300 }, () => signWith(next)))
    const answers = await Promise.all(tokens.map((t) => sessions.verifyToken(t)))
    expect(answers.every((a) => 'session' in a)).toBe(true)
    expect(state.fetches).toBe(1)
    for (let elapsed = 1; elapsed <= 300; elapsed++) {
      clock.advance(1)
      await Promise.all(tokens.slice(0, 20).map((t) => sessions.verifyToken(t)))
    }
    // One fetch per 60 s, give or take the one ahead of expiry.
    expect(state.fetches).toBeGreaterThanOrEqual(5)
    expect(state.fetches).toBeLessThanOrEqual(11)
  })
})

describe('the leaked-key procedure against a running ES256 service', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ 'signing-alg': 'ES256' })
  })
  afterAll(async () => svc?.stop())

  it('an embedding verifier refuses the leaked key within the 60 s the JWKS may be kept', async () => {
    const token = await issueToken(svc.url)
    const clock = testClock('runs')
    const sessions = await createSessionVerifier({ jwksUrl: `${svc.url}/.well-known/jwks.json`, clock })
    expect('session' in (await sessions.verifyToken(token))).toBe(true)
    // docs/key-rotation.md, "A leaked key": a new active key, the leaked one retired as already expired, reload.
    const path = secretsPath(svc)
    const before = readSecrets(path)
    const now = Math.floor(Date.now() / 1000)
    writeSecrets(path, {
      ...before,
      signingKeys: [await generateSigningKey('ES256', 'after-the-leak'), ...before.signingKeys.map((k) => ({ ...k, retiredAt: now - 7230 }))],
      activeKid: 'after-the-leak',
    })
    await svc.reloadKeys()
    clock.advance(45)
    expect('session' in (await sessions.verifyToken(token)), 'still within the max-age').toBe(true)
    clock.advance(61 - 45)
    const r = await sessions.verifyToken(token)
    expect('error' in r && r.error.message).toContain('unknown or retired key')
    expect('session' in (await sessions.verifyToken(await issueToken(svc.url)))).toBe(true)
  })
})
