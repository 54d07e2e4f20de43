/**
 * SPEC 5, key rotation on a running service (docs/key-rotation.md): a new key is added and made active, the old one
 * is marked retiredAt=now, the keys are reloaded (reloadKeys(), what SIGHUP calls) without a restart. Old tokens still
 * verify until retiredAt + 7200 + 30, new ones carry the new kid; a bad file keeps the keys in use; an embedding
 * service reading the secrets file verifies the new kid after its own reload().
 */
import { systemClock } from '../../adapters/clock/system-clock.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionVerifier, type EmbeddedSessionVerifier } from '../../adapters/http/index.js'
import type { Secrets } from '../../adapters/crypto/secrets-codec.js'
import { SESSION_ROUTE, startTestService, type TestService } from '../support/service.js'
import { expectInvalidToken, hs256Key, issueToken, kidOf, readSecrets, secretsPath, sendToken, signWith, writeSecrets } from './support.js'
import { testClock } from '../support/doubles.js'
import { decodeJwtPart } from '../support/jwt.js'

describe('rotating the signing key of a running service', () => {
  const clock = testClock('runs')
  let svc: TestService
  let embedded: EmbeddedSessionVerifier
  let path: string
  let before: Secrets
  let oldToken: string
  let newToken: string
  let retiredAt: number

  const accepted = async (token: string) => {
    const r = await sendToken(svc.url, SESSION_ROUTE, 'bearer', token)
    expect(r.status, r.text).toBe(200)
  }

  beforeAll(async () => {
    svc = await startTestService({}, { clock })
    path = secretsPath(svc)
    before = readSecrets(path)
    embedded = await createSessionVerifier({ secretsFile: path, clock })
    oldToken = await issueToken(svc.url)
  })
  afterAll(async () => svc?.stop())

  it('signs with the one generated key before the rotation', () => {
    expect(before.signingKeys).toHaveLength(1)
    expect(kidOf(oldToken)).toBe(before.activeKid)
  })

  it('after the new key is made active and the old one retired, signs with the new kid and still verifies old tokens', async () => {
    // retiredAt = now: the old key signed its last token (oldToken) at that second at the latest.
    retiredAt = decodeJwtPart(oldToken, 1)['iat'] as number
    const next = hs256Key('2030-01-01-rotated')
    writeSecrets(path, {
      ...before,
      signingKeys: [next, ...before.signingKeys.map((k) => (k.kid === before.activeKid ? { ...k, retiredAt } : k))],
      activeKid: next.kid,
    })
    await svc.reloadKeys()
    newToken = await issueToken(svc.url)
    expect(kidOf(newToken)).toBe('2030-01-01-rotated')
    await accepted(oldToken)
    await accepted(newToken)
  })

  it('an embedding service verifies the new kid once it has reloaded the file, and the old one all along', async () => {
    expect('session' in (await embedded.verifyToken(oldToken))).toBe(true)
    expect((await embedded.verifyToken(newToken) as { error?: { message: string } }).error?.message).toContain('unknown or retired key')
    await embedded.reload()
    expect('session' in (await embedded.verifyToken(newToken))).toBe(true)
    expect('session' in (await embedded.verifyToken(oldToken))).toBe(true)
  })

  it('keeps the keys in use when the file is broken, and says so by rejecting', async () => {
    const good = readSecrets(path)
    writeSecrets(path, '{"pepper": "not base64url!", "signingKeys": []')
    await expect(svc.reloadKeys()).rejects.toThrow(/not valid JSON/)
    writeSecrets(path, { ...good, activeKid: 'nope' })
    await expect(svc.reloadKeys()).rejects.toThrow(/activeKid: names no key of signingKeys/)
    await expect(embedded.reload()).rejects.toThrow(/activeKid/)
    expect(kidOf(await issueToken(svc.url))).toBe('2030-01-01-rotated')
    await accepted(oldToken)
    expect('session' in (await embedded.verifyToken(newToken))).toBe(true)
    writeSecrets(path, good)
    await svc.reloadKeys()
  })

  it('verifies an old token until retiredAt + 7229 s and refuses it from retiredAt + 7230 s', async () => {
    // The old token was issued no later than retiredAt, so by then it has expired too (exp + 30 s tolerance).
    clock.now = retiredAt + 7229
    await accepted(oldToken)
    clock.now = retiredAt + 7230
    const r = await sendToken(svc.url, SESSION_ROUTE, 'bearer', oldToken)
    expectInvalidToken(r)
    clock.now = systemClock.nowSeconds() // back to the present
    await accepted(newToken)
  })

  it('refuses tokens of the retired key once its window is over, even fresh ones (a leaked retired key)', async () => {
    // Retired long enough ago: every token it signed has expired, so a token it "signs" now is forged.
    const current = readSecrets(path)
    const old = current.signingKeys.find((k) => k.kid === before.activeKid)!
    writeSecrets(path, { ...current, signingKeys: current.signingKeys.map((k) => (k.kid === old.kid ? { ...k, retiredAt: clock.nowSeconds() - 7230 } : k)) })
    await svc.reloadKeys()
    const r = await sendToken(svc.url, SESSION_ROUTE, 'bearer', await signWith(old))
    expectInvalidToken(r)
    expect(r.json.status.message).toContain('unknown or retired key')
  })

  it('after the old key is removed from the file, serves on with the new one', async () => {
    const current = readSecrets(path)
    writeSecrets(path, { ...current, signingKeys: current.signingKeys.filter((k) => k.kid === current.activeKid) })
    await svc.reloadKeys()
    await accepted(newToken)
    expectInvalidToken(await sendToken(svc.url, SESSION_ROUTE, 'bearer', oldToken))
    expect(kidOf(await issueToken(svc.url))).toBe('2030-01-01-rotated')
  })
})
