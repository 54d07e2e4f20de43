/**
 * The pass-code verification queue: at most `concurrency` scrypt derivations run at once and at most `capacity`
 * attempts wait or run; an attempt that finds it full is answered at once with 503 SERVICEUNAVAILABLE and
 * Retry-After, is not checked, not counted against its key or identifier, and not audited. Meanwhile the session
 * check (jose on the same thread pool) keeps answering. Real concurrency: hundreds of attempts in flight at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { boundedVerificationQueue, verificationBounds } from '../../adapters/crypto/verification-queue.js'
import { rawRequest, SESSION_ROUTE } from '../support/service.js'
import { countScrypt, login, outcome, startSecuredService, withCode, withPassCode, type SecuredService } from './support.js'
import { EXAMPLE_CODE, EXAMPLE_KEY, exampleDocument } from '../support/example.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('boundedVerificationQueue', () => {
  it('runs at most `concurrency` at once, admits `capacity`, sheds the rest, and frees places as they end', async () => {
    const queue = boundedVerificationQueue({ concurrency: 3, capacity: 10 })
    let running = 0
    let most = 0
    const order: number[] = []
    const work = (i: number) => async () => {
      running++
      most = Math.max(most, running)
      await sleep(5)
      running--
      order.push(i)
      return i
    }
    const places = Array.from({ length: 300 }, () => queue.enter())
    expect(places.filter((p) => p !== undefined)).toHaveLength(10)
    expect(queue.inQueue()).toBe(10)
    const results = await Promise.all(places.map((p, i) => p?.run(work(i))))
    expect(results.filter((r) => r !== undefined)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(most).toBe(3)
    // First come, first served.
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(queue.inQueue()).toBe(0)
    // A place left without running is free again; leaving twice frees it once.
    const p = queue.enter()!
    p.leave()
    p.leave()
    expect(queue.inQueue()).toBe(0)
    // A verification that throws frees its slot and place too.
    await expect(queue.enter()!.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(queue.inQueue()).toBe(0)
  })

  it('auto: one thread of the pool and one core stay free, four places per running verification', () => {
    expect(verificationBounds({ capacity: 'auto', concurrency: 'auto' }, { poolSize: 4, cores: 2 })).toEqual({ concurrency: 1, capacity: 4 })
    expect(verificationBounds({ capacity: 'auto', concurrency: 'auto' }, { poolSize: 4, cores: 8 })).toEqual({ concurrency: 3, capacity: 12 })
    expect(verificationBounds({ capacity: 'auto', concurrency: 'auto' }, { poolSize: 1, cores: 1 })).toEqual({ concurrency: 1, capacity: 4 })
    expect(verificationBounds({ capacity: 50, concurrency: 2 }, { poolSize: 4, cores: 2 })).toEqual({ concurrency: 2, capacity: 50 })
  })
})

describe('pass-code attempts beyond the queue get 503 at once', () => {
  let s: SecuredService
  let scrypt: ReturnType<typeof countScrypt>
  beforeAll(async () => {
    scrypt = countScrypt()
    s = await startSecuredService({ flags: { 'passcode-queue': '4', 'passcode-concurrency': '1', 'lockout-key': '100000' } })
    await s.import(exampleDocument())
  })
  afterAll(async () => {
    scrypt?.restore()
    await s?.stop()
  })

  it('300 attempts at once: 503 with Retry-After for the shed ones, never checked nor counted nor audited', async () => {
    const token = (await login(s.url, withCode(EXAMPLE_CODE), EXAMPLE_KEY)).json.data.token as string
    scrypt.reset()
    const auditBefore = (await s.audit()).length
    const sessionTimes: number[] = []
    let bursting = true
    const checker = (async () => {
      while (bursting) {
        const t0 = performance.now()
        const r = await rawRequest(s.url, { method: 'GET', path: SESSION_ROUTE, headers: { authorization: `Bearer ${token}` } })
        expect(r.status).toBe(200)
        sessionTimes.push(performance.now() - t0)
        await sleep(10)
      }
    })()
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => login(s.url, withPassCode(`nobody-${i}`, '0000'), EXAMPLE_KEY)))
    bursting = false
    await checker
    const shed = results.filter((r) => r.status === 503)
    const checked = results.filter((r) => outcome(r) === 'INVALIDACCESSTOKEN')
    expect(shed.length + checked.length).toBe(300)
    expect(shed.length).toBeGreaterThan(200)
    for (const r of shed) {
      expect(outcome(r)).toBe('SERVICEUNAVAILABLE')
      expect(r.headers['retry-after']).toBe('1')
    }
    expect(scrypt.count()).toBe(checked.length)
    expect(scrypt.maxInFlight()).toBe(1)
    // Only the checked attempts were counted against the key and audited.
    expect((await s.store.getAttempts(`key:${s.digest.digest(EXAMPLE_KEY)}`))?.failures).toBe(checked.length)
    expect((await s.audit()).length - auditBefore).toBe(checked.length)
    // The session check did not wait behind the verifications (a generous bound: without the queue it took tens of seconds).
    sessionTimes.sort((a, b) => a - b)
    expect(sessionTimes.length).toBeGreaterThan(0)
    expect(sessionTimes[Math.ceil(sessionTimes.length * 0.99) - 1]).toBeLessThan(5_000)
  })
})
