/**
 * @module signing-key
 * One key of the signing ring, imported once at start-up into everything the hot path needs: the encoded
 * protected header, synchronous signing and signature-checking functions, and (asymmetric keys) the public JWK.
 */
import { createHmac, createPrivateKey, createPublicKey, sign as signWith, timingSafeEqual, verify as verifyWith, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { SESSION_LIFETIME_SECONDS, EXPIRY_TOLERANCE_SECONDS } from '../../core/index.js'
import type { VerifyingKey } from './compact-jws.js'
import { base64urlBytes, MIN_SECRET_BYTES, SecretsError, type SigningAlgorithm, type SigningKeySpec } from './secrets-codec.js'

export interface PreparedKey extends VerifyingKey {
  readonly alg: SigningAlgorithm
  /** The base64url signature of a JWS signing input. */
  readonly sign: (signingInput: string) => string
  /** Seconds since the epoch after which nothing this key signed can still be valid; Infinity while it is in use. */
  readonly verifiableUntil: number
  /** The public key as a JWK (with kid, alg, use), for asymmetric keys. */
  readonly publicJwk?: JWK
}

/**
 * A retired key signed its last token at `retiredAt` at the latest; that token expires 7200 s later and the core
 * tolerates 30 s of clock skew on expiry. Past that, a token of this key is either expired or forged.
 */
export const retiredKeyLifetimeSeconds = SESSION_LIFETIME_SECONDS + EXPIRY_TOLERANCE_SECONDS

/**
 * Key order exactly as CRM.COM's documented example (`typ` before `alg`), then `kid`; JSON.stringify keeps the
 * insertion order, so these bytes are the same for every token of the key.
 */
export const encodeHeader = (alg: SigningAlgorithm, kid: string): string =>
  Buffer.from(JSON.stringify({ typ: 'JWT', alg, kid }), 'utf8').toString('base64url')

const fail = (spec: SigningKeySpec, why: string): never => {
  // The kid names the key for the operator; nothing of the key material is ever said.
  throw new SecretsError(`The signing key ${spec.kid} (${spec.alg}) cannot be used: ${why}`)
}

/** The key type and curve node:crypto reports for a key of each asymmetric algorithm. */
export const asymmetricCheck = { ES256: { type: 'ec', curve: 'prime256v1' }, EdDSA: { type: 'ed25519', curve: undefined } } as const

/** The private KeyObject of an ES256 or EdDSA key, checked to be of the right curve and self-consistent. */
const importPrivate = (spec: Extract<SigningKeySpec, { alg: 'ES256' | 'EdDSA' }>): { readonly privateKey: KeyObject; readonly publicJwk: JWK } => {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: spec.privateJwk as JsonWebKey, format: 'jwk' })
  } catch {
    return fail(spec, 'privateJwk is not a valid private key')
  }
  const expected = asymmetricCheck[spec.alg]
  if (privateKey.asymmetricKeyType !== expected.type || privateKey.asymmetricKeyDetails?.namedCurve !== expected.curve) {
    return fail(spec, `privateJwk is not a key for ${spec.alg}`)
  }
  const publicKey = createPublicKey(privateKey)
  const derived = publicKey.export({ format: 'jwk' }) as JWK
  // A JWK whose public members (x, y) do not belong to its private part (d) would sign tokens that its published
  // public key cannot verify: refuse it at start-up. OpenSSL keeps the given EC point as it is (hence the probe
  // signature) but derives an Ed25519 public key from d (hence the comparison with the given x).
  const probe = Buffer.from('consumer-auth key check')
  const digest = spec.alg === 'ES256' ? 'sha256' : null
  const matches =
    derived.x === spec.privateJwk.x &&
    (spec.alg !== 'ES256' || derived.y === spec.privateJwk.y) &&
    verifyWith(digest, probe, publicKey, signWith(digest, probe, privateKey))
  if (!matches) return fail(spec, 'the public part of privateJwk (x, y) does not belong to its private part (d)')
  const publicJwk: JWK =
    spec.alg === 'ES256'
      ? { kty: derived.kty, crv: derived.crv, x: derived.x, y: derived.y, kid: spec.kid, alg: spec.alg, use: 'sig' }
      : { kty: derived.kty, crv: derived.crv, x: derived.x, kid: spec.kid, alg: spec.alg, use: 'sig' }
  return { privateKey, publicJwk: Object.freeze(publicJwk) }
}

/** Checks JWS signatures (RFC 7518 3.4, 3.5: ES256 as raw r || s) with a public key, synchronously; never throws. */
export const publicKeyVerifier = (alg: 'ES256' | 'EdDSA', publicKey: KeyObject): VerifyingKey['verifySignature'] =>
  alg === 'ES256'
    ? (input, signature) => signature.length === 64 && verifyWith('sha256', Buffer.from(input, 'latin1'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
    : (input, signature) => signature.length === 64 && verifyWith(null, Buffer.from(input, 'latin1'), publicKey, signature)

/**
 * Signing and verifying go straight to node:crypto, not through jose: a JWS signature is one HMAC or one signature
 * over `header.payload`, and jose (WebCrypto, async, header re-serialised per call) is about 20 times slower for
 * HS256 on this path. The tests check that jose accepts every token signed here, and that verification decides
 * exactly as jose does (test/adapters/crypto/verify-as-jose.property.test.ts).
 */
export const prepareSigningKey = async (spec: SigningKeySpec): Promise<PreparedKey> => {
  const encodedHeader = encodeHeader(spec.alg, spec.kid)
  const verifiableUntil = spec.retiredAt === undefined ? Infinity : spec.retiredAt + retiredKeyLifetimeSeconds
  const retired = spec.retiredAt === undefined ? {} : { retiredAt: spec.retiredAt }
  if (spec.alg === 'HS256') {
    const secret = base64urlBytes(spec.secret)
    if (!secret || secret.length < MIN_SECRET_BYTES) return fail(spec, `secret must be base64url of at least ${MIN_SECRET_BYTES} bytes`)
    // A plain Buffer key: createHmac is faster with it than with a KeyObject. The signing input of a canonical token
    // is ASCII, so latin1 and utf8 give the same bytes; latin1 is the cheaper conversion.
    const mac = (input: string) => createHmac('sha256', secret).update(input, 'latin1').digest()
    return {
      kid: spec.kid,
      alg: spec.alg,
      encodedHeader,
      sign: (input) => createHmac('sha256', secret).update(input, 'utf8').digest('base64url'),
      verifySignature: (input, signature) => signature.length === 32 && timingSafeEqual(mac(input), signature),
      verifiableUntil,
      ...retired,
    }
  }
  const { privateKey, publicJwk } = importPrivate(spec)
  const sign =
    spec.alg === 'ES256'
      ? // JWS wants the raw r || s form (RFC 7518 3.4), not OpenSSL's default DER.
        (input: string) => signWith('sha256', Buffer.from(input, 'utf8'), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')
      : (input: string) => signWith(null, Buffer.from(input, 'utf8'), privateKey).toString('base64url')
  const verifySignature = publicKeyVerifier(spec.alg, createPublicKey(privateKey))
  return { kid: spec.kid, alg: spec.alg, encodedHeader, sign, verifySignature, verifiableUntil, publicJwk, ...retired }
}
