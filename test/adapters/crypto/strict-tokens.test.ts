/**
 * What the key ring's verifier refuses beyond a bad signature: tokens a retired key signed after its retirement,
 * and tokens in any encoding but the canonical compact form (unpadded base64url that re-encodes to itself), even
 * when their signature verifies.
 */
import { randomBytes } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { createKeyRing } from '../../../adapters/crypto/create-key-ring.js'
import { generateSigningKey } from '../../../adapters/crypto/generate-secrets.js'
import type { SigningKeySpec } from '../../../adapters/crypto/secrets-codec.js'
import { buildClaims, newSession, verifySessionToken } from '../../../core/index.js'
import { testClock } from '../../support/doubles.js'

const NOW = 1_700_000_000
const hsKey = (kid: string, retiredAt?: number): SigningKeySpec => ({
  kid, alg: 'HS256', secret: randomBytes(32).toString('base64url'), ...(retiredAt === undefined ? {} : { retiredAt }),
})
const claimsAt = (issuedAt: number) =>
  buildClaims(newSession({ contactInformationId: 'CII', accountsReceivableId: 'ARI', username: 'u', organisation: 'o' }, '1', issuedAt, randomBytes(16).toString('hex').toUpperCase()))

/** A token of `key` signed at `issuedAt`, by a ring in which it is still the active key (as a thief holding it would). */
const signedBy = async (key: SigningKeySpec, issuedAt: number): Promise<string> => {
  const { retiredAt: _r, ...active } = key
  const ring = await createKeyRing({ signingKeys: [active as SigningKeySpec], activeKid: key.kid }, testClock(issuedAt))
  return ring.signer.sign(claimsAt(issuedAt))
}

/** The whole verification (ring + core), as a service accepting the tokens runs it. */
const verifierOf = async (keys: SigningKeySpec[], activeKid: string, now: number) => {
  const ring = await createKeyRing({ signingKeys: keys, activeKid }, testClock(now))
  const verify = verifySessionToken({ verifier: ring.verifier, clock: testClock(now) })
  return async (token: string) => {
    const r = await verify(token)()
    return E.isRight(r) ? 'accepted' : r.left.message
  }
}

describe('a retired key', () => {
  const RETIRED_AT = NOW - 1000
  it.each([
    ['before its retirement', RETIRED_AT - 100, true],
    ['at its retirement', RETIRED_AT, true],
    ['30 s after its retirement (tolerance)', RETIRED_AT + 30, true],
    ['31 s after its retirement', RETIRED_AT + 31, false],
    ['an hour after its retirement', RETIRED_AT + 999, false],
  ])('verifies a token it signed %s: %s', async (_what, issuedAt, accepted) => {
    for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
      const old = alg === 'HS256' ? hsKey('old', RETIRED_AT) : { ...(await generateSigningKey(alg, 'old')), retiredAt: RETIRED_AT }
      const verify = await verifierOf([old, hsKey('new')], 'new', NOW)
      const answer = await verify(await signedBy(old, issuedAt))
      if (accepted) expect(answer, alg).toBe('accepted')
      else expect(answer, alg).toMatch(/issued after its key was retired/)
    }
  })
})

/** The same token in encodings a lax base64url decoder also reads as the same bytes. */
const nonCanonical = (token: string): ReadonlyArray<readonly [string, string]> => {
  const [h, p, s] = token.split('.') as [string, string, string]
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  /** The last character with its unused low bits set: the same bytes for a decoder that ignores them. */
  const lowBits = (part: string): string => {
    const unused = part.length % 4 === 2 ? 0b1111 : part.length % 4 === 3 ? 0b11 : 0
    if (unused === 0) throw new Error(`no unused bits in a part of length ${part.length}`)
    const last = ALPHABET.indexOf(part.slice(-1))
    return part.slice(0, -1) + ALPHABET[last | unused]
  }
  const padded = (part: string) => part + '='.repeat((4 - (part.length % 4)) % 4)
  const variants: Array<readonly [string, string]> = [
    ['a trailing = on the signature', `${h}.${p}.${s}=`],
    ['the signature padded', `${h}.${p}.${padded(s)}`],
    ['the payload padded', `${h}.${padded(p)}.${s}`],
    ['a space inside the signature', `${h}.${p}.${s.slice(0, 10)} ${s.slice(10)}`],
    ['a newline inside the payload', `${h}.${p.slice(0, 8)}\n${p.slice(8)}`.concat(`.${s}`)],
    ['a tab at the end of the signature', `${h}.${p}.${s}\t`],
    ['the unused low bits of the signature set', `${h}.${p}.${lowBits(s)}`],
    ['standard base64 (+ and /) for the signature', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`],
  ]
  return variants.filter(([, t]) => t !== token)
}

describe('the encoding of a session token', () => {
  it('accepts the canonical compact form and refuses every other encoding of the same token', async () => {
    for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
      const key = alg === 'HS256' ? hsKey('k') : await generateSigningKey(alg, 'k')
      const verify = await verifierOf([key], 'k', NOW)
      // Find a token whose signature has a `-` or `_` and unused bits, so that every variant differs from it.
      let token = await signedBy(key, NOW)
      while (!/[-_]/.test(token.split('.')[2]!) || token.split('.')[2]!.length % 4 === 0) token = await signedBy(key, NOW)
      expect(await verify(token), alg).toBe('accepted')
      for (const [what, variant] of nonCanonical(token)) {
        expect(await verify(variant), `${alg}: ${what}`).toMatch(/not in the canonical compact form/)
      }
    }
  })
})

describe('tokens the ring remembers', () => {
  it('a remembered token of a retired key is refused once the key can no longer have valid tokens', async () => {
    for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
      const retiredAt = NOW - 7000
      const old = { ...(await generateSigningKey(alg, 'old')), retiredAt }
      // Signed after its retirement (the core refuses that; the ring alone checks signatures only), so that its exp
      // lies beyond the key's last second: what the ring remembered must not outlive the key.
      const token = await signedBy(old, retiredAt + 1000)
      const clock = testClock(NOW)
      const ring = await createKeyRing({ signingKeys: [old, hsKey('new')], activeKid: 'new' }, clock)
      expect((await ring.verifier.verify(token)).ok, alg).toBe(true)
      expect((await ring.verifier.verify(token)).ok, `${alg} (remembered)`).toBe(true)
      clock.now = retiredAt + 7230
      expect(await ring.verifier.verify(token), alg).toEqual({ ok: false, reason: 'unknown or retired key' })
    }
  })
})
