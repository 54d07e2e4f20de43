/**
 * The node:crypto verifiers (the key ring's, and createSessionVerifier({ jwksUrl })'s with its cache of verified
 * tokens) decide exactly as jose does: accept or refuse, and the same payload, for random valid tokens and for
 * adversarial ones (altered header, payload or signature; none, HS384, RS256, HS256 made with a public key; wrong
 * and missing kids; retired keys; non-canonical encodings; garbage). The oracle is jose's compactVerify with the key
 * the token's kid names, after the service's stated rules that jose does not have: one canonical spelling of a
 * token, a kid that names a key of the ring, no `crit`/`b64`, and a retired key only until its last token expired.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import fc from 'fast-check'
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeyRing } from '../../../adapters/crypto/create-key-ring.js'
import { jwksSessionVerifier } from '../../../adapters/crypto/jwks-session-verifier.js'
import { generateSigningKey } from '../../../adapters/crypto/generate-secrets.js'
import type { SigningKeySpec } from '../../../adapters/crypto/secrets-codec.js'
import { retiredKeyLifetimeSeconds } from '../../../adapters/crypto/signing-key.js'
import type { SessionVerification, SessionVerifier } from '../../../core/index.js'
import { testClock } from '../../support/doubles.js'

const NOW = 1_800_000_000
const clock = testClock(NOW)
const enc = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url')
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

// -- the ring under test: every algorithm, an active key, a retired key still verifying, one past its last token --

interface RingKey {
  readonly spec: SigningKeySpec
  /** What jose signs with (a secret, or the private key) and verifies with (the secret, or the public key). */
  readonly signKey: KeyObject | Uint8Array
  readonly verifyKey: CryptoKey | Uint8Array
  readonly publicJwk?: JWK
}

const ringKey = async (spec: SigningKeySpec): Promise<RingKey> => {
  if (spec.alg === 'HS256') {
    const secret = Buffer.from(spec.secret, 'base64url')
    return { spec, signKey: secret, verifyKey: secret }
  }
  const privateKey = createPrivateKey({ key: spec.privateJwk as JsonWebKey, format: 'jwk' })
  const publicJwk = { ...(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK), kid: spec.kid, alg: spec.alg, use: 'sig' }
  return { spec, signKey: privateKey, verifyKey: (await importJWK(publicJwk, spec.alg)) as CryptoKey, publicJwk }
}

let keys: RingKey[]
let ringVerifier: SessionVerifier
/** Keys outside the ring, of the algorithms an attacker would try. */
let rsaPrivate: KeyObject
let strangerEs256: RingKey

beforeAll(async () => {
  const specs: SigningKeySpec[] = [
    await generateSigningKey('HS256', 'hs-active'),
    { ...(await generateSigningKey('ES256', 'es-retired')), retiredAt: NOW - 3600 },
    await generateSigningKey('EdDSA', 'ed-next'),
    { ...(await generateSigningKey('HS256', 'hs-gone')), retiredAt: NOW - retiredKeyLifetimeSeconds - 1 },
    { ...(await generateSigningKey('EdDSA', 'ed-gone')), retiredAt: NOW - retiredKeyLifetimeSeconds },
  ]
  keys = await Promise.all(specs.map(ringKey))
  ringVerifier = (await createKeyRing({ signingKeys: specs, activeKid: 'hs-active' }, clock)).verifier
  rsaPrivate = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  strangerEs256 = await ringKey(await generateSigningKey('ES256', 'es-retired'))
})

// -- the oracle ----------------------------------------------------------------------------------------------------

/** Canonical unpadded base64url, decided the slow and obvious way: it re-encodes to itself. */
const canonical = (part: string): boolean => /^[A-Za-z0-9_-]*$/.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part

const refusal = { ok: false } as const
type Decision = { readonly ok: false } | { readonly ok: true; readonly payload: unknown; readonly keyRetiredAt?: number }

/** jose's decision with `verifyWith(kid)`, after the service's own rules. */
const oracle = async (token: string, candidates: ReadonlyArray<RingKey>, verifyWith: (key: RingKey) => Parameters<typeof compactVerify>[1]): Promise<Decision> => {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every(canonical)) return refusal
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    return refusal
  }
  const key = candidates.find((k) => k.spec.kid === header.kid)
  if (!key || header.crit !== undefined || header.b64 !== undefined) return refusal
  if (key.spec.retiredAt !== undefined && NOW >= key.spec.retiredAt + retiredKeyLifetimeSeconds) return refusal
  let bytes: Uint8Array
  try {
    bytes = (await compactVerify(token, verifyWith(key), { algorithms: [key.spec.alg] })).payload
  } catch {
    return refusal
  }
  let payload: unknown
  try {
    payload = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return refusal
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return refusal
  return key.spec.retiredAt === undefined ? { ok: true, payload } : { ok: true, payload, keyRetiredAt: key.spec.retiredAt }
}

const decisionOf = (v: SessionVerification): Decision =>
  v.ok ? (v.keyRetiredAt === undefined ? { ok: true, payload: v.payload } : { ok: true, payload: v.payload, keyRetiredAt: v.keyRetiredAt }) : refusal

// -- tokens ----------------------------------------------------------------------------------------------------------

const claims = fc.oneof(
  fc.record({
    cii: fc.string({ minLength: 1, maxLength: 32 }), usr: fc.string({ maxLength: 12 }), org: fc.string({ maxLength: 12 }), ari: fc.stringMatching(/^[0-9A-F]{32}$/),
    oun: fc.string({ maxLength: 4 }), exp: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }).map(String)),
    iat: fc.integer({ min: 0, max: 2 ** 40 }), jti: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex').toUpperCase()),
  }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
  // Payloads that are not a JSON object once verified.
  fc.constantFrom('[1,2]', 'null', '"text"', '42', 'not json', '{"a":1', '\uFFFD'),
)

/** A protected header naming `kid` with `alg`: the service's own bytes, or another member order and extra members. */
const headerOf = (alg: string, kid: string | undefined, shape: number, extra: Record<string, unknown>): string => {
  const base: Record<string, unknown> = kid === undefined ? { alg } : { alg, kid }
  switch (shape % 3) {
    case 0:
      return enc(kid === undefined ? { typ: 'JWT', alg } : { typ: 'JWT', alg, kid })
    case 1:
      return enc({ ...base, typ: 'JWT', ...extra })
    default:
      return enc({ ...extra, ...base })
  }
}

/**
 * A JWS over exactly `header` (already encoded) and the payload, signed by RFC 7518's recipe for `alg` with node:crypto
 * primitives (not the service's signer, and jose's CompactSign would re-serialise the header and refuse `crit`).
 */
const signed = (header: string, payload: unknown, alg: string, key: KeyObject | Uint8Array): string => {
  const input = `${header}.${enc(typeof payload === 'string' ? payload : JSON.stringify(payload))}`
  const data = Buffer.from(input, 'utf8')
  const signature =
    alg === 'HS256' || alg === 'HS384'
      ? createHmac(alg === 'HS256' ? 'sha256' : 'sha384', key as Uint8Array).update(data).digest()
      : alg === 'ES256'
        ? sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' })
        : alg === 'RS256'
          ? sign('sha256', data, key as KeyObject)
          : sign(null, data, key as KeyObject)
  return `${input}.${signature.toString('base64url')}`
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Every way a token is bent, applied to a valid one. */
const mutate = (token: string, how: number, at: number, char: string): string => {
  const [h, p, s] = token.split('.') as [string, string, string]
  const flip = (part: string) => {
    if (part.length === 0) return 'A'
    const i = at % part.length
    return part.slice(0, i) + (part[i] === char ? (char === 'A' ? 'B' : 'A') : char) + part.slice(i + 1)
  }
  const lowBits = (part: string) => {
    const unused = part.length % 4 === 2 ? 0b1111 : part.length % 4 === 3 ? 0b11 : 0
    return unused === 0 ? `${part}A` : part.slice(0, -1) + ALPHABET[ALPHABET.indexOf(part.slice(-1)) | ((at % unused) + 1)]
  }
  switch (how % 14) {
    case 0: return token
    case 1: return `${flip(h)}.${p}.${s}`
    case 2: return `${h}.${flip(p)}.${s}`
    case 3: return `${h}.${p}.${flip(s)}`
    case 4: return `${h}.${p}.${s.slice(0, at % (s.length + 1))}`
    case 5: return `${h}.${p}.${s}=`
    case 6: return `${h}.${p}=.${s}`
    case 7: return `${h}.${p}.${s.slice(0, at % s.length)} ${s.slice(at % s.length)}`
    case 8: return `${h}.${p}.${lowBits(s)}`
    case 9: return `${h}.${lowBits(p)}.${s}`
    case 10: return `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`
    case 11: return `${h}.${p}.`
    case 12: return `${h}.${p}.${s}.${s}`
    default: return `${h}..${s}`
  }
}

/** A token of one of the ring's keys or of an attacker, then bent by `mutate`. */
const tokens = () =>
  fc
    .record({
      signer: fc.integer({ min: 0, max: 1000 }),
      namedKid: fc.integer({ min: 0, max: 1000 }),
      attack: fc.integer({ min: 0, max: 13 }),
      shape: fc.integer({ min: 0, max: 2 }),
      extra: fc.dictionary(fc.constantFrom('typ', 'cty', 'x5t', 'crit', 'b64', 'zip', 'foo'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
      payload: claims,
      how: fc.integer({ min: 0, max: 1000 }),
      at: fc.nat(),
      char: fc.constantFrom(...ALPHABET, '.', '=', ' '),
    })
    .map((t) => {
      const key = keys[t.signer % keys.length]!
      const kid = keys[t.namedKid % keys.length]!.spec.kid
      let token: string
      switch (t.attack) {
        case 0: // a key of the ring, its own kid and algorithm
        case 1:
        case 2:
        case 10:
        case 11:
        case 12:
        case 13:
          token = signed(headerOf(key.spec.alg, key.spec.kid, t.shape, t.extra), t.payload, key.spec.alg, key.signKey)
          break
        case 3: // a key of the ring, another key's kid
          token = signed(headerOf(key.spec.alg, kid, t.shape, t.extra), t.payload, key.spec.alg, key.signKey)
          break
        case 4: // no kid
          token = signed(headerOf(key.spec.alg, undefined, t.shape, t.extra), t.payload, key.spec.alg, key.signKey)
          break
        case 5: // alg none, with or without a signature
          token = `${headerOf('none', kid, t.shape, {})}.${enc(t.payload)}.${t.how % 2 ? '' : enc('x')}`
          break
        case 6: // HS384 with an HS256 secret of the ring
          token = signed(headerOf('HS384', 'hs-active', t.shape, {}), t.payload, 'HS384', keys[0]!.signKey)
          break
        case 7: // RS256 with a key of its own, naming a ring kid
          token = signed(headerOf('RS256', kid, t.shape, {}), t.payload, 'RS256', rsaPrivate)
          break
        case 8: { // HS256 made with a published public key (algorithm confusion)
          const published = keys.find((k) => k.publicJwk)!
          token = signed(headerOf('HS256', published.spec.kid, t.shape, {}), t.payload, 'HS256', new TextEncoder().encode(JSON.stringify(published.publicJwk)))
          break
        }
        case 9: // another key under a ring kid
          token = signed(headerOf('ES256', 'es-retired', t.shape, {}), t.payload, 'ES256', strangerEs256.signKey)
          break
        default:
          throw new Error('unreachable')
      }
      // Half the tokens of the ring's own keys stay as signed; everything else is bent.
      return (t.attack <= 2 || t.attack >= 10) && t.how % 2 === 0 ? token : mutate(token, t.how, t.at, t.char)
    })

const garbage = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((parts) => parts.join('.')),
  fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')),
)

// -- the properties --------------------------------------------------------------------------------------------------

describe('the key ring verifier decides as jose does', () => {
  it('property: random valid and adversarial tokens of every algorithm, each verified twice', async () => {
    let accepted = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(tokens(), async (token) => {
        const expected = await oracle(token, keys, (k) => k.verifyKey)
        expect(decisionOf(await ringVerifier.verify(token)), token).toStrictEqual(expected)
        // Tokens of the ring's asymmetric keys are remembered once verified: the second answer may come from there.
        expect(decisionOf(await ringVerifier.verify(token)), `${token} (again)`).toStrictEqual(expected)
        expected.ok ? accepted++ : refused++
      }),
      { numRuns: 1500 },
    )
    // The run was not trivially one-sided.
    expect(accepted).toBeGreaterThan(100)
    expect(refused).toBeGreaterThan(500)
  })

  it('property: garbage', async () => {
    await fc.assert(
      fc.asyncProperty(garbage, async (token) => {
        expect(decisionOf(await ringVerifier.verify(token))).toStrictEqual(await oracle(token, keys, (k) => k.verifyKey))
      }),
      { numRuns: 500 },
    )
  })
})

describe('createSessionVerifier({ jwksUrl }) decides as jose does with the published key set, also from its cache', () => {
  let server: Server
  let verifier: SessionVerifier
  let published: RingKey[]
  beforeAll(async () => {
    // What the service publishes: its asymmetric keys that still verify.
    published = keys.filter((k) => k.publicJwk && !(k.spec.retiredAt !== undefined && NOW >= k.spec.retiredAt + retiredKeyLifetimeSeconds))
    const body = JSON.stringify({ keys: published.map((k) => k.publicJwk) })
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' }).end(body))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    verifier = jwksSessionVerifier(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { cooldownSeconds: 3600, verifiedTokens: 64 }, clock)
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('property: random valid and adversarial tokens, each verified twice (the second time from the cache)', async () => {
    const jwks = createLocalJWKSet({ keys: published.map((k) => k.publicJwk!) })
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(tokens(), async (token) => {
        const expected = await oracle(token, published, () => jwks)
        // A published key carries no retiredAt: the JWKS verifier cannot know it.
        const withoutRetirement = expected.ok ? { ok: true, payload: expected.payload } : expected
        expect(decisionOf(await verifier.verify(token)), token).toStrictEqual(withoutRetirement)
        expect(decisionOf(await verifier.verify(token)), `${token} (again)`).toStrictEqual(withoutRetirement)
        if (expected.ok) accepted++
      }),
      { numRuns: 1000 },
    )
    expect(accepted).toBeGreaterThan(50)
  })
})

describe('the oracle itself', () => {
  it('accepts what the ring signs and refuses a flipped signature (so that agreement is not agreement on nothing)', async () => {
    const ring = await createKeyRing({ signingKeys: keys.map((k) => k.spec), activeKid: 'hs-active' }, clock)
    const token = await ring.signer.sign({ cii: 'c', usr: 'u', org: 'o', ari: 'a', oun: '1', exp: NOW + 7200, iat: NOW, jti: randomBytes(16).toString('hex').toUpperCase() })
    expect((await oracle(token, keys, (k) => k.verifyKey)).ok).toBe(true)
    expect((await oracle(mutate(token, 3, 5, 'Q'), keys, (k) => k.verifyKey)).ok).toBe(false)
  })
})
