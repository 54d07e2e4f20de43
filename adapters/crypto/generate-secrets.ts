/**
 * @module generate-secrets
 * Fresh deployment secrets: a random pepper and a one-key signing ring (HS256 by default, docs/behaviour.md, the token).
 * Used for the embedded default's first start (docs/operations.md, docs/configuration.md) and by operators who want a starting document.
 */
import { generateKeyPair, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { MIN_SECRET_BYTES, type PrivateJwk, type Secrets, type SigningAlgorithm, type SigningKeySpec } from './secrets-codec.js'

const generatePair = promisify(generateKeyPair)

/** A kid an operator can read (when it was made) that is still unique across rotations (the random part). */
const newKid = (now: Date = new Date()): string => `${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`

/** One new signing key of the given algorithm. */
export const generateSigningKey = async (alg: SigningAlgorithm, kid: string = newKid()): Promise<SigningKeySpec> => {
  switch (alg) {
    case 'HS256':
      return { kid, alg, secret: randomBytes(MIN_SECRET_BYTES).toString('base64url') }
    case 'ES256': {
      const { privateKey } = await generatePair('ec', { namedCurve: 'P-256' })
      return { kid, alg, privateJwk: privateKey.export({ format: 'jwk' }) as PrivateJwk }
    }
    case 'EdDSA': {
      const { privateKey } = await generatePair('ed25519')
      return { kid, alg, privateJwk: privateKey.export({ format: 'jwk' }) as PrivateJwk }
    }
  }
}

export const generateSecrets = async (alg: SigningAlgorithm = 'HS256'): Promise<Secrets> => {
  const key = await generateSigningKey(alg)
  return { pepper: randomBytes(MIN_SECRET_BYTES).toString('base64url'), signingKeys: [key], activeKid: key.kid }
}
