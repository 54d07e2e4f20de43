/**
 * @module import-codecs
 * The io-ts pieces the import document (import-document.ts) is made of: its scalars (names, secrets, Web API keys,
 * RFC 3339 date-times), a strict object whose unknown fields are errors naming the nearest known one, and the public
 * JWK. Every failure message says what the value must be and never quotes a secret.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { isPlainObject, object, refinement, text, type ObjectOf } from '../../core/codec.js'
import { MAX_PARAMETER_LENGTH, nearestName } from '../../core/index.js'

// ---------------------------------------------------------------------------------------------------------------
// Scalars. The patterns are also those of import.schema.json (a test compares them); they use the `u` flag, as
// JSON Schema validators do, so that lengths count code points in both.

/** Names and ids: not blank, no control characters, no leading or trailing whitespace. */
export const NAME_PATTERN = /^[^\s\u0000-\u001F\u007F](?:[^\u0000-\u001F\u007F]*[^\s\u0000-\u001F\u007F])?$/u
/** Secrets (authentication codes, pass codes): anything but blank. */
export const SECRET_PATTERN = /\S/u
/** Web API keys: 16 to 512 printable characters without whitespace or `:` (they travel as the Basic-auth user). */
export const KEY_PATTERN = new RegExp(`^[^\\s:\\u0000-\\u001F\\u007F]{16,${MAX_PARAMETER_LENGTH}}$`, 'u')
/** RFC 3339 date-time with an explicit offset, e.g. 2026-01-01T00:00:00Z. */
export const DATE_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/u

const MAX = MAX_PARAMETER_LENGTH
const length = (s: string) => [...s].length

const common = (s: string): string | undefined =>
  s.trim() === '' ? 'must not be empty or only whitespace' : length(s) > MAX ? `must be at most ${MAX} characters long` : undefined

export const Name = text('Name', (s) =>
  common(s) ?? (NAME_PATTERN.test(s) ? undefined : 'must not contain control characters nor begin or end with whitespace'))

export const Secret = text('Secret', common)

export const KeyText = text('WebApiKey', (s) =>
  KEY_PATTERN.test(s) ? undefined : `must be 16 to ${MAX} characters without whitespace, control characters or ":"`)

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
export const DateTimeOrNull = refinement<string | null>('DateTimeOrNull', (u) => {
  if (u === null) return undefined
  if (typeof u !== 'string') return 'must be an ISO-8601 date-time string or null'
  const r = parseDateTime(u)
  return E.isLeft(r) ? r.left : undefined
})

/** One of a few literals; its failure lists them. */
export const oneOf = <L extends string>(values: ReadonlyArray<L>) =>
  t.keyof(Object.fromEntries(values.map((v) => [v, null])) as Record<L, null>, `one of ${values.join(', ')}`)

export const list = <C extends t.Mixed>(codec: C) => t.array(codec, 'an array')

// ---------------------------------------------------------------------------------------------------------------
// A strict object: required and optional fields; every unknown field is an error, with the nearest known name.

/** A strict object's codec, with its fields: the entry table (entries.ts) derives flags and checks from them. */
export type Strict<R extends t.Props, O extends t.Props> = t.Type<ObjectOf<R, O>, ObjectOf<R, O>, unknown> & {
  readonly required: R
  readonly optional: O
}

export const strict = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O): Strict<R, O> =>
  Object.assign(
    object(name, required, optional, {
      notAnObject: 'must be an object',
      missing: 'is mandatory',
      unknownField: (k, known) => {
        const near = nearestName(k, known)
        return `is not a field of ${name}${near === undefined ? '' : ` (did you mean ${near}?)`}`
      },
    }),
    { required, optional },
  )

// ---------------------------------------------------------------------------------------------------------------
// Public keys

/** Members of a private or symmetric JWK: an identity provider's JWKS holds public keys only (docs/behaviour.md, the method: authentication). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
const JWK_KEY_TYPES = ['RSA', 'EC', 'OKP'] as const

export const PublicJwk = refinement<Record<string, unknown>>('PublicJwk', (u) => {
  if (!isPlainObject(u)) return 'must be a JWK object'
  if (!(JWK_KEY_TYPES as ReadonlyArray<unknown>).includes(u['kty'])) return `must have kty ${JWK_KEY_TYPES.join(', ')} (asymmetric public keys only)`
  const secret = PRIVATE_JWK_MEMBERS.find((m) => Object.prototype.hasOwnProperty.call(u, m))
  return secret === undefined ? undefined : `holds private key material ("${secret}"): give the public key only`
})

export const Jwks = strict('jwks', { keys: list(PublicJwk) }, {})
