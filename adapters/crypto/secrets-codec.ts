/**
 * @module secrets-codec
 * The deployment's secrets (docs/operations.md, docs/configuration.md) and their io-ts codec: the digest pepper and the signing key ring.
 * Decoding names the field at fault and why, and never echoes a value: any field of this document may be a secret.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { contextAt, formatPath, isPlainObject, object, problemsOf, refinement, text, type CodecProblem } from '../../core/codec.js'

/** 256 bits, for the pepper and for HS256 secrets alike (RFC 7518 3.2). */
export const MIN_SECRET_BYTES = 32

export const signingAlgorithms = ['HS256', 'ES256', 'EdDSA'] as const
export type SigningAlgorithm = (typeof signingAlgorithms)[number]

/** A private key as a JWK: EC P-256 (`x`, `y`, `d`) for ES256, OKP Ed25519 (`x`, `d`) for EdDSA. */
export interface PrivateJwk {
  readonly kty: string
  readonly crv: string
  readonly x: string
  readonly y?: string
  readonly d: string
  readonly [member: string]: unknown
}

interface KeySpecBase {
  /** The key id, sent in every token's header so that the right key of the ring verifies it. */
  readonly kid: string
  /**
   * When the key stopped signing (seconds since the epoch). A retired key still verifies the tokens it signed
   * until they have all expired, then it is refused.
   */
  readonly retiredAt?: number
}

interface HmacKeySpec extends KeySpecBase {
  readonly alg: 'HS256'
  /** base64url, at least 32 bytes. */
  readonly secret: string
}

interface AsymmetricKeySpec extends KeySpecBase {
  readonly alg: 'ES256' | 'EdDSA'
  readonly privateJwk: PrivateJwk
}

export type SigningKeySpec = HmacKeySpec | AsymmetricKeySpec

export interface Secrets {
  /** base64url, at least 32 bytes: the HMAC key of the key and authentication-code digests. */
  readonly pepper: string
  readonly signingKeys: ReadonlyArray<SigningKeySpec>
  /** The kid of the key that signs new tokens; it must not be retired. */
  readonly activeKid: string
}

/** Any failure to find, read, decode or create the secrets. Its message never contains a secret. */
export class SecretsError extends Error {
  override readonly name = 'SecretsError'
  /** Stable: what an embedder tests for (the message may change). */
  readonly code = 'ERR_CONSUMER_AUTH_SECRETS'
  constructor(
    message: string,
    /** One line per problem, `field: why`. */
    readonly problems: ReadonlyArray<string> = [],
  ) {
    super(problems.length === 0 ? message : `${message}:\n  - ${problems.join('\n  - ')}`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Field codecs. Every failure carries its own message, so the reporter never needs to show the value.

const BASE64URL = /^[A-Za-z0-9_-]+$/

/** Does the text decode as canonical unpadded base64url, and to how many bytes? */
export const base64urlBytes = (text: string): Buffer | undefined => {
  if (!BASE64URL.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

const Base64UrlSecret = text('Base64UrlSecret', (s) => {
  const bytes = base64urlBytes(s)
  if (!bytes) return 'must be base64url text (A-Z a-z 0-9 - _, no padding)'
  return bytes.length >= MIN_SECRET_BYTES ? undefined : `must decode to at least ${MIN_SECRET_BYTES} bytes (256 bits); it decodes to ${bytes.length}`
})

// Not `text`: a non-string gets the same message as a string that is not base64url.
const Base64UrlText = refinement<string>('Base64UrlText', (u) => (typeof u === 'string' && base64urlBytes(u) ? undefined : 'must be base64url text'))

const KID = /^[A-Za-z0-9._:-]{1,64}$/
const Kid = refinement<string>('Kid', (u) => (typeof u === 'string' && KID.test(u) ? undefined : 'must be 1 to 64 characters of A-Z a-z 0-9 . _ : -'))

const Seconds = refinement<number>('Seconds', (u) =>
  typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? undefined : 'must be a time in whole seconds since the epoch')

const literal = <L extends string>(value: L) => refinement<L>(value, (u) => (u === value ? undefined : `must be "${value}"`))

/**
 * With `closed`, unknown fields are refused: a typo such as `retiredat` must not be silently ignored. Open objects
 * (the private JWKs) keep members of their own format.
 */
const secretsObject = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O, closed: boolean) =>
  object(name, required, optional, { notAnObject: 'must be a JSON object', missing: 'is required', unknownField: closed ? () => 'is not a known field' : 'keep' })

const EcP256PrivateJwk = secretsObject('EcP256PrivateJwk', { kty: literal('EC'), crv: literal('P-256'), x: Base64UrlText, y: Base64UrlText, d: Base64UrlText }, {}, false)
const Ed25519PrivateJwk = secretsObject('Ed25519PrivateJwk', { kty: literal('OKP'), crv: literal('Ed25519'), x: Base64UrlText, d: Base64UrlText }, {}, false)

const HmacKey = secretsObject('HmacKeySpec', { kid: Kid, alg: literal('HS256'), secret: Base64UrlSecret }, { retiredAt: Seconds }, true)
const Es256Key = secretsObject('Es256KeySpec', { kid: Kid, alg: literal('ES256'), privateJwk: EcP256PrivateJwk }, { retiredAt: Seconds }, true)
const EdDsaKey = secretsObject('EdDsaKeySpec', { kid: Kid, alg: literal('EdDSA'), privateJwk: Ed25519PrivateJwk }, { retiredAt: Seconds }, true)

/**
 * One key of the ring, dispatched on `alg` rather than tried as a union: a union would report the failures of
 * every branch, and "secret is required" next to "privateJwk is required" helps no one.
 */
const SigningKey: t.Type<SigningKeySpec, SigningKeySpec, unknown> = new t.Type<SigningKeySpec, SigningKeySpec, unknown>(
  'SigningKeySpec',
  (u): u is SigningKeySpec => E.isRight(SigningKey.decode(u)),
  (u, c) => {
    if (!isPlainObject(u)) return t.failure(u, c, 'must be a JSON object')
    const codec = u['alg'] === 'HS256' ? HmacKey : u['alg'] === 'ES256' ? Es256Key : u['alg'] === 'EdDSA' ? EdDsaKey : undefined
    if (!codec) {
      const at = t.appendContext(c, 'alg', t.string, undefined)
      return t.failures([{ value: undefined, context: at, message: `must be one of ${signingAlgorithms.join(', ')}` }])
    }
    return codec.validate(u, c) as t.Validation<SigningKeySpec>
  },
  t.identity,
)

const SecretsFields = secretsObject('Secrets', { pepper: Base64UrlSecret, signingKeys: t.readonlyArray(SigningKey), activeKid: Kid }, {}, true)

/** The checks across fields: a ring with unique kids whose active key exists and still signs. */
const ringProblems = (s: Pick<Secrets, 'signingKeys' | 'activeKid'>): Array<CodecProblem> => {
  const problems: Array<CodecProblem> = []
  if (s.signingKeys.length === 0) problems.push({ path: ['signingKeys'], message: 'must hold at least one key' })
  const seen = new Map<string, number>()
  s.signingKeys.forEach((k, i) => {
    const first = seen.get(k.kid)
    if (first !== undefined) problems.push({ path: ['signingKeys', i, 'kid'], message: `repeats the kid of signingKeys[${first}]` })
    else seen.set(k.kid, i)
  })
  const active = s.signingKeys.find((k) => k.kid === s.activeKid)
  if (s.signingKeys.length > 0 && !active) problems.push({ path: ['activeKid'], message: 'names no key of signingKeys' })
  if (active?.retiredAt !== undefined) problems.push({ path: ['activeKid'], message: 'names a retired key (its retiredAt is set)' })
  return problems
}

/** The secrets document as io-ts decodes it from parsed JSON. */
export const SecretsCodec: t.Type<Secrets, Secrets, unknown> = new t.Type<Secrets, Secrets, unknown>(
  'Secrets',
  (u): u is Secrets => E.isRight(SecretsCodec.decode(u)),
  (u, c) => {
    const r = SecretsFields.validate(u, c)
    if (E.isLeft(r)) return r
    const problems = ringProblems(r.right)
    if (problems.length === 0) return t.success(r.right)
    return t.failures(
      problems.map(({ path, message }) => ({ value: undefined, context: contextAt(c, path), message })),
    )
  },
  t.identity,
)

/** `signingKeys[0].secret: must be ...`; the value is never shown. */
const describe = ({ path, message }: CodecProblem): string => `${path.length === 0 ? 'the document' : formatPath(path)}: ${message}`

export const describeErrors = (errors: t.Errors): string[] => problemsOf(errors).map(describe)

/** Checks a ring that did not come through the codec (e.g. built in code), with the same messages. */
export const checkRing = (s: Pick<Secrets, 'signingKeys' | 'activeKid'>): void => {
  const problems = ringProblems(s)
  if (problems.length > 0) {
    throw new SecretsError('The signing key ring is not valid', problems.map(describe))
  }
}

/** Parses and decodes a secrets document; `source` says where it came from (a file name, an environment variable). */
export const decodeSecrets = (json: string, source: string): Secrets => {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    // Not the parser's message: V8 quotes the offending text, which would put part of a secret in a log.
    throw new SecretsError(`The secrets in ${source} are not valid JSON`)
  }
  const r = SecretsCodec.decode(parsed)
  if (E.isLeft(r)) throw new SecretsError(`The secrets in ${source} are not valid`, describeErrors(r.left))
  return r.right
}
