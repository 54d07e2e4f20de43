/**
 * An unknown identifier costs what a wrong pass code costs (SPEC 4): the use case verifies against the hasher's
 * dummy hash. Shown at the level of the use case with the real scrypt hasher (default parameters) behind a counting
 * proxy: which hasher method runs, how many scrypt derivations run, and that both failures take comparable time
 * (a generous bound: medians within a factor of 2). Then over HTTP: one scrypt derivation per attempt either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { hmacDigest } from '../../adapters/crypto/hmac-digest.js'
import { scryptHasher } from '../../adapters/crypto/scrypt-hasher.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { importDocument } from '../../adapters/provisioning/import.js'
import { attemptLimiter, issueSessionToken, R16_2_0, type PassCodeHasher } from '../../core/index.js'
import { randomBytes } from 'node:crypto'
import { countScrypt, login, outcome, startSecuredService, withPassCode, type SecuredService } from './support.js'
import { testClock } from '../support/doubles.js'
import { EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, exampleDocument } from '../support/example.js'

/** Counts the calls of each hasher method, passing them on to the real hasher. */
const counting = (inner: PassCodeHasher) => {
  const calls: Record<string, number> = {}
  const hasher = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls[String(name)] = (calls[String(name)] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { hasher, calls }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** One counter for the file (a second one's restore would remove the first one's wrapper). */
const scrypt = countScrypt()
afterAll(() => scrypt.restore())

describe('the dummy verification of unknown identifiers (use case, real scrypt)', () => {
  const setup = async () => {
    const store = new MemoryStore()
    const clock = testClock()
    const digest = hmacDigest(randomBytes(32))
    const real = scryptHasher()
    const imported = await importDocument(store, exampleDocument(), { digest, hasher: real, clock })
    if (E.isLeft(imported)) throw new Error(imported.left.join('; '))
    const { hasher, calls } = counting(real)
    const issue = issueSessionToken({
      release: R16_2_0, claimTimes: 'number', clock, ids: { newSessionId: () => 'F586B288048A4100B749E62F47DFC844' }, digest, hasher,
      directory: store, keys: store, accessTokens: store, identity: { verify: async () => ({ ok: false, reason: 'none' }) }, identityLinks: store,
      // High thresholds: this test is about timing, not lock-out.
      limiter: attemptLimiter(store, { windowSeconds: 900, thresholds: { identifier: 1000, key: 1000, address: 1000 } }),
      signer: { sign: async () => 'signed' }, audit: store,
    })
    const attempt = async (identifier: string, passCode: string) => {
      const started = performance.now()
      const r = await issue({ body: withPassCode(identifier, passCode), key: { _tag: 'Key', key: EXAMPLE_KEY }, clientAddress: '203.0.113.7' })()
      return { ms: performance.now() - started, name: E.isLeft(r) ? r.left.name : 'OK' }
    }
    return { calls, attempt }
  }

  it('takes the dummy path for an unknown identifier and the real one for a wrong pass code: one scrypt derivation each', async () => {
    const { calls, attempt } = await setup()
    scrypt.reset()
    expect((await attempt('nobody', EXAMPLE_PASS_CODE)).name).toBe('INVALIDACCESSTOKEN')
    expect(calls).toEqual({ verifyDummy: 1 })
    expect(scrypt.count()).toBe(1)
    expect((await attempt(EXAMPLE_IDENTIFIER, 'wrong')).name).toBe('INVALIDACCESSTOKEN')
    expect(calls).toEqual({ verifyDummy: 1, verify: 1 })
    expect(scrypt.count()).toBe(2)
    expect((await attempt(EXAMPLE_IDENTIFIER, EXAMPLE_PASS_CODE)).name).toBe('OK')
    expect(calls).toEqual({ verifyDummy: 1, verify: 2 })
  })

  it('an unknown identifier and a wrong pass code take comparable time', async () => {
    const { attempt } = await setup()
    await attempt('warm-up', 'x')
    const unknown: number[] = []
    const wrong: number[] = []
    // Interleaved, so that a slow moment of the machine hits both alike.
    for (let i = 0; i < 5; i++) {
      unknown.push((await attempt(`unknown-${i}`, EXAMPLE_PASS_CODE)).ms)
      wrong.push((await attempt(EXAMPLE_IDENTIFIER, `wrong-${i}`)).ms)
    }
    const [u, w] = [median(unknown), median(wrong)]
    // Both pay for scrypt (tens of ms with the default parameters): neither path is a cheap early exit.
    expect(Math.min(u, w)).toBeGreaterThan(10)
    expect(u / w).toBeGreaterThan(0.5)
    expect(u / w).toBeLessThan(2)
  })
})

describe('the dummy verification over HTTP', () => {
  let s: SecuredService
  beforeAll(async () => {
    s = await startSecuredService()
    await s.import(exampleDocument())
  })
  afterAll(async () => s?.stop())

  it('runs one scrypt derivation for an unknown identifier, as for a wrong pass code, with the same answer', async () => {
    scrypt.reset()
    const unknown = await login(s.url, withPassCode('nobody', EXAMPLE_PASS_CODE), EXAMPLE_KEY)
    expect(scrypt.count()).toBe(1)
    const wrong = await login(s.url, withPassCode(EXAMPLE_IDENTIFIER, 'wrong'), EXAMPLE_KEY)
    expect(scrypt.count()).toBe(2)
    expect([unknown.status, outcome(unknown)]).toEqual([401, 'INVALIDACCESSTOKEN'])
    // One code and one message for both (the envelope is byte for byte the same).
    expect(unknown.text).toBe(wrong.text)
  })
})
