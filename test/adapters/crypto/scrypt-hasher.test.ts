/** scryptHasher: pass-code hashes, their stored parameters, and the dummy verification. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_SCRYPT_PARAMS, scryptHasher } from '../../../adapters/crypto/scrypt-hasher.js'

// Small N keeps the suite fast; the defaults are exercised once below.
const fast = scryptHasher({ N: 1024 })

describe('scryptHasher', () => {
  it('round-trips, and a wrong pass code is false', async () => {
    const h = await fast.hash('4711')
    expect(h).toMatch(/^scrypt\$N=1024,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await fast.verify('4711', h)).toBe(true)
    expect(await fast.verify('4712', h)).toBe(false)
    expect(await fast.verify('', h)).toBe(false)
  })

  it('salts: the same pass code hashes differently each time', async () => {
    const [a, b] = await Promise.all([fast.hash('4711'), fast.hash('4711')])
    expect(a).not.toBe(b)
  })

  it('handles non-ASCII pass codes by their UTF-8 bytes', async () => {
    const h = await fast.hash('pässwörd✓')
    expect(await fast.verify('pässwörd✓', h)).toBe(true)
    expect(await fast.verify('passwordv', h)).toBe(false)
  })

  it('stores its parameters, and honours stored ones after the defaults change', async () => {
    const old = await scryptHasher({ N: 2048, r: 4, p: 2, saltBytes: 24, keyBytes: 48 }).hash('4711')
    expect(old.startsWith('scrypt$N=2048,r=4,p=2$')).toBe(true)
    const today = scryptHasher({ N: 1024, r: 8, p: 1 })
    expect(await today.verify('4711', old)).toBe(true)
    expect(await today.verify('4712', old)).toBe(false)
  })

  it('uses the documented defaults', async () => {
    expect(DEFAULT_SCRYPT_PARAMS).toMatchObject({ N: 32768, r: 8, p: 1, saltBytes: 16, keyBytes: 32 })
    const h = scryptHasher()
    const stored = await h.hash('4711')
    expect(stored.startsWith('scrypt$N=32768,r=8,p=1$')).toBe(true)
    expect(await h.verify('4711', stored)).toBe(true)
  })

  it('answers false, never throws, for malformed or out-of-bounds stored hashes', async () => {
    const good = await fast.hash('4711')
    const [, , , salt, hash] = good.split('$')
    const bad = [
      '',
      'plain',
      '$2b$10$abcdefghijklmnopqrstuv',
      good.replace('scrypt$', 'Scrypt$'),
      good.replace('N=1024', 'N=1000'), // not a power of two
      good.replace('N=1024', 'N=1'),
      good.replace('N=1024', 'N=16777216'), // beyond the memory limit
      good.replace('r=8', 'r=0'),
      good.replace('p=1', 'p=999'),
      `scrypt$N=1024,r=8,p=1$${salt}$`,
      `scrypt$N=1024,r=8,p=1$$${hash}`,
      `scrypt$N=1024,r=8,p=1$${salt}$${hash}=`,
      `scrypt$N=1024,r=8,p=1$${salt}$${hash}$extra`,
      `scrypt$N=1024,r=8,p=1$${salt}$${hash?.slice(0, 10)}`, // hash too short
      `scrypt$N=1024,r=8,p=1$AAAA$${hash}`, // salt too short
      `scrypt$N=1024,r=8,p=1$${salt}$${hash?.slice(0, -1)}+`, // not base64url
      ` ${good}`,
    ]
    for (const stored of bad) await expect(fast.verify('4711', stored), stored).resolves.toBe(false)
    await expect(fast.verify('4711', undefined as unknown as string)).resolves.toBe(false)
    await expect(fast.verify(undefined as unknown as string, good)).resolves.toBe(false)
  })

  it('refuses unreasonable parameters at creation', () => {
    expect(() => scryptHasher({ N: 1000 })).toThrow(/power of two/)
    expect(() => scryptHasher({ N: 2 ** 21 })).toThrow(RangeError)
    expect(() => scryptHasher({ saltBytes: 8 })).toThrow(/saltBytes/)
    expect(() => scryptHasher({ keyBytes: 8 })).toThrow(/keyBytes/)
  })

  it('verifyDummy answers false, even for the pass code of a real hash', async () => {
    const h = await fast.hash('4711')
    expect(await fast.verifyDummy('4711')).toBe(false)
    expect(await fast.verify('4711', h)).toBe(true)
  })

  it('verifyDummy costs what a failed verify costs', async () => {
    const hasher = scryptHasher({ N: 2 ** 13 })
    const stored = await hasher.hash('4711')
    const time = async (f: () => Promise<unknown>): Promise<number> => {
      const t = performance.now()
      await f()
      return performance.now() - t
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
    const real: number[] = []
    const dummy: number[] = []
    for (let i = 0; i < 7; i++) {
      real.push(await time(() => hasher.verify('wrong', stored)))
      dummy.push(await time(() => hasher.verifyDummy('wrong')))
    }
    const ratio = median(dummy) / median(real)
    expect(ratio).toBeGreaterThan(1 / 3)
    expect(ratio).toBeLessThan(3)
  })
})
