/**
 * Throughput of the crypto adapters on this machine: `npx vitest bench --run test/adapters/crypto`.
 * Not part of `vitest run`; the numbers inform the scrypt defaults and the signing hot path.
 */
import { randomBytes } from 'node:crypto'
import { CompactSign, compactVerify } from 'jose'
import { bench, describe } from 'vitest'
import { systemClock } from '../../../adapters/clock/system-clock.js'
import { createKeyRing } from '../../../adapters/crypto/create-key-ring.js'
import { scryptHasher } from '../../../adapters/crypto/scrypt-hasher.js'
import { generateSigningKey } from '../../../adapters/crypto/generate-secrets.js'
import { randomSessionIds } from '../../../adapters/crypto/session-ids.js'
import type { SessionClaims } from '../../../core/index.js'
import { EXAMPLE_CLAIMS, EXAMPLE_PASS_CODE } from '../../support/example.js'

const hasher = scryptHasher()
const stored = await hasher.hash(EXAMPLE_PASS_CODE)
/** libuv's default thread pool: four verifications can run at once. */
const POOL = Number(process.env.UV_THREADPOOL_SIZE ?? 4)

describe('scrypt verify, default parameters', () => {
  bench('one at a time', async () => {
    await hasher.verify(EXAMPLE_PASS_CODE, stored)
  }, { iterations: 20, time: 0 })
  bench(`${POOL} at a time (per batch)`, async () => {
    await Promise.all(Array.from({ length: POOL }, () => hasher.verify(EXAMPLE_PASS_CODE, stored)))
  }, { iterations: 10, time: 0 })
})

const claims = (): SessionClaims => {
  const now = systemClock.nowSeconds()
  return { ...EXAMPLE_CLAIMS, exp: now + 7200, iat: now, jti: randomSessionIds.newSessionId() }
}

for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
  const spec = await generateSigningKey(alg, 'k1')
  const ring = await createKeyRing({ signingKeys: [spec], activeKid: 'k1' }, systemClock)
  const token = await ring.signer.sign(claims())
  const joseKey =
    spec.alg === 'HS256' ? new Uint8Array(Buffer.from(spec.secret, 'base64url')) : (await import('jose')).importJWK(spec.privateJwk, alg)
  const key = await joseKey
  const encoder = new TextEncoder()
  describe(`${alg} sign`, () => {
    bench('key ring signer', async () => {
      await ring.signer.sign(claims())
    })
    bench('jose CompactSign alone', async () => {
      await new CompactSign(encoder.encode(JSON.stringify(claims()))).setProtectedHeader({ typ: 'JWT', alg, kid: 'k1' }).sign(key)
    })
  })
  describe(`${alg} verify`, () => {
    bench('key ring verifier', async () => {
      await ring.verifier.verify(token)
    })
  })
}

describe('misc', () => {
  bench('session id', () => {
    randomSessionIds.newSessionId()
  })
  bench('randomBytes(16) hex (unpooled, for comparison)', () => {
    randomBytes(16).toString('hex').toUpperCase()
  })
})
