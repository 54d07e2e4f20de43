/**
 * @module import-codecs
 * The io-ts pieces the import document (import-document.ts) is made of: its scalars (names, secrets, Web API keys,
 * RFC 3339 date-times), a strict object whose unknown fields are errors naming the nearest known one, and the public
 * JWK. Every failure message says what the value must be and never quotes a secret.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { MAX_PARAMETER_LENGTH, nearestName } from '../../core/index.js'

// ---------------------------------------------------------------------------------------------------------------
// Scalars. The patterns are also those of import.schema.json (a test compares them); they use the `u` flag, as
// JSON Schema validators do, so that lengths count code points in both.

/** Names and ids: not blank, no control characters, no leading or trailing whitespace. */
export const NAME_PATTERN = /^[^\s\u0000-\u001F\u007F](?:[^\u0000-\u001F\u007F]*[^\s\u0000-\u001F\u007F])?$/u
/** Secrets (authentication codes, pass codes): anything but blank. */
export const SECRET_PATTERN = /\S/u
/** Web API keys: 16 to 512 printable characters without whitespace or `:` (they travel as the Basic-auth user). */
export const KEY_PATTERN = /^[^\s:\u0000-\u001F\u007F]{16,512}$/u
/** RFC 3339 date-time with an explicit offset, e.g. 2026-01-01T00:00:00Z. */
export const DATE_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/u

const MAX = MAX_PARAMETER_LENGTH
const length = (s: string) => [...s].length

const text = (name: string, check: (s: string) => string | undefined) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && check(u) === undefined,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, 'must be a string')
      const problem = check(u)
      return problem === undefined ? t.success(u) : t.failure(u, c, problem)
    },
    t.identity,
  )

const common = (s: string): string | undefined =>
  s.trim() === '' ? 'must not be empty or only whitespace' : length(s) > MAX ? `must be at most ${MAX} characters long` : undefined

export const Name = text('Name', (s) =>
  common(s) ?? (NAME_PATTERN.test(s) ? undefined : 'must not contain control characters nor begin or end with whitespace'))

export const Secret = text('Secret', common)

export const KeyText = text('WebApiKey', (s) =>
  KEY_PATTERN.test(s) ? undefined : 'must be 16 to 512 characters without whitespace, control characters or ":"')

/** Seconds since the epoch of an RFC 3339 date-time, or a reason why it is not one. */
export const parseDateTime = (s: string): E.Either<string, number> => {
  const m = DATE_TIME_PATTERN.exec(s)
  const bad = E.left('must be an ISO-8601 date-time with an offset, e.g. 2026-01-01T00:00:00Z')
  if (!m) return bad
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12 || day < 1 || day > days) return E.left(`has no such day: ${s.slice(0, 10)}`)
  if (hour > 23 || minute > 59 || second > 59) return E.left(`has no such time of day: ${s.slice(11, 19)}`)
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return E.left('has an impossible offset')
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? bad : E.right(Math.floor(ms / 1000))
}

/** An RFC 3339 date-time, or null for an open bound. */
export const DateTimeOrNull = new t.Type<string | null, string | null, unknown>(
  'DateTimeOrNull',
  (u): u is string | null => u === null || (typeof u === 'string' && E.isRight(parseDateTime(u))),
  (u, c) => {
    if (u === null) return t.success(null)
    if (typeof u !== 'string') return t.failure(u, c, 'must be an ISO-8601 date-time string or null')
    const r = parseDateTime(u)
    return E.isLeft(r) ? t.failure(u, c, r.left) : t.success(u)
  },
  t.identity,
)

/** One of a few literals; its failure lists them. */
export const oneOf = <L extends string>(values: ReadonlyArray<L>) =>
  t.keyof(Object.fromEntries(values.map((v) => [v, null])) as Record<L, null>, `one of ${values.join(', ')}`)

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

export const list = <C extends t.Mixed>(codec: C) => t.array(codec, 'an array')

// ---------------------------------------------------------------------------------------------------------------
// A strict object: required and optional fields; every unknown field is an error, with the nearest known name.

type StrictOf<R extends t.Props, O extends t.Props> = { [K in keyof R]: t.TypeOf<R[K]> } & { [K in keyof O]?: t.TypeOf<O[K]> }

/** A strict object's codec, with its fields: the entry table (entries.ts) derives flags and checks from them. */
export type Strict<R extends t.Props, O extends t.Props> = t.Type<StrictOf<R, O>, StrictOf<R, O>, unknown> & {
  readonly required: R
  readonly optional: O
}

export const strict = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O): Strict<R, O> => {
  const known = [...Object.keys(required), ...Object.keys(optional)]
  const type: t.Type<StrictOf<R, O>, StrictOf<R, O>, unknown> = new t.Type<StrictOf<R, O>, StrictOf<R, O>, unknown>(
    name,
    (u): u is StrictOf<R, O> => E.isRight(type.decode(u)),
    (u, c) => {
      if (!isPlainObject(u)) return t.failure(u, c, 'must be an object')
      const errors: t.ValidationError[] = []
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(u)) {
        if (known.includes(k)) continue
        const near = nearestName(k, known)
        errors.push({
          value: u[k],
          context: t.appendContext(c, k, t.unknown, u[k]),
          message: `is not a field of ${name}${near === undefined ? '' : ` (did you mean ${near}?)`}`,
        })
      }
      const field = (k: string, codec: t.Mixed, mandatory: boolean) => {
        const v = Object.prototype.hasOwnProperty.call(u, k) ? u[k] : undefined
        if (v === undefined) {
          if (mandatory) errors.push({ value: undefined, context: t.appendContext(c, k, codec, undefined), message: 'is mandatory' })
          return
        }
        const r = codec.validate(v, t.appendContext(c, k, codec, v))
        if (E.isLeft(r)) errors.push(...r.left)
        else out[k] = r.right
      }
      for (const [k, codec] of Object.entries(required)) field(k, codec, true)
      for (const [k, codec] of Object.entries(optional)) field(k, codec, false)
      return errors.length > 0 ? t.failures(errors) : t.success(out as StrictOf<R, O>)
    },
    t.identity,
  )
  return Object.assign(type, { required, optional })
}

// ---------------------------------------------------------------------------------------------------------------
// Public keys

/** Members of a private or symmetric JWK: an identity provider's JWKS holds public keys only (docs/behaviour.md, the method: authentication). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
export const JWK_KEY_TYPES = ['RSA', 'EC', 'OKP'] as const

export const PublicJwk = new t.Type<Record<string, unknown>, Record<string, unknown>, unknown>(
  'PublicJwk',
  (u): u is Record<string, unknown> => isPlainObject(u),
  (u, c) => {
    if (!isPlainObject(u)) return t.failure(u, c, 'must be a JWK object')
    if (!(JWK_KEY_TYPES as ReadonlyArray<unknown>).includes(u['kty'])) {
      return t.failure(u, c, `must have kty ${JWK_KEY_TYPES.join(', ')} (asymmetric public keys only)`)
    }
    const secret = PRIVATE_JWK_MEMBERS.find((m) => Object.prototype.hasOwnProperty.call(u, m))
    return secret === undefined ? t.success(u) : t.failure(u, c, `holds private key material ("${secret}"): give the public key only`)
  },
  t.identity,
)

export const Jwks = strict('jwks', { keys: list(PublicJwk) }, {})
