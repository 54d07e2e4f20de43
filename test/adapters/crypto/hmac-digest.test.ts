/** hmacDigest: keyed digests of keys and authentication codes. */
import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hmacDigest } from '../../../adapters/crypto/hmac-digest.js'
import { EXAMPLE_CODE, EXAMPLE_KEY } from '../../support/example.js'

const pepper = Buffer.alloc(32, 7)

describe('hmacDigest', () => {
  it('is lower-case hex HMAC-SHA256 of the UTF-8 secret', () => {
    const d = hmacDigest(pepper).digest(EXAMPLE_KEY)
    expect(d).toMatch(/^[0-9a-f]{64}$/)
    expect(d).toBe(createHmac('sha256', pepper).update(EXAMPLE_KEY, 'utf8').digest('hex'))
  })

  it('is stable across calls and instances, and differs per secret', () => {
    const a = hmacDigest(pepper)
    expect(a.digest(EXAMPLE_CODE)).toBe(hmacDigest(Buffer.from(pepper)).digest(EXAMPLE_CODE))
    expect(a.digest(EXAMPLE_CODE)).not.toBe(a.digest('p_kestora1?'))
    expect(a.digest('ü')).toBe(createHmac('sha256', pepper).update(Buffer.from('ü', 'utf8')).digest('hex'))
  })

  it('differs with a different pepper', () => {
    expect(hmacDigest(pepper).digest('x')).not.toBe(hmacDigest(Buffer.alloc(32, 8)).digest('x'))
  })

  it('refuses a pepper shorter than 32 bytes without showing it', () => {
    const short = Buffer.from('secret-pepper-value-31-bytes-xx')
    expect(short.length).toBe(31)
    expect(() => hmacDigest(short)).toThrow(/at least 32 bytes/)
    try {
      hmacDigest(short)
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('secret-pepper')
    }
  })

  it('keeps its own copy of the pepper', () => {
    const p = randomBytes(32)
    const d = hmacDigest(p)
    const before = d.digest('x')
    p.fill(0)
    expect(d.digest('x')).toBe(before)
  })
})
