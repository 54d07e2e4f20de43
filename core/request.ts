/**
 * @module request
 * The wire request of the method and its decoding (docs/behaviour.md, the validation matrix): the JSON body as an io-ts codec, and the
 * key that the HTTP edge read from Basic auth beside it. Decoding reports the first failing rule only, in a fixed
 * order: known parameters in the order of the parameter table of docs/behaviour.md, then unknown parameters, then the key.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { errorPath, formatPath, isPlainObject, text } from './codec.js'
import { authError, type AuthError } from './errors.js'

export const MAX_PARAMETER_LENGTH = 512
/**
 * An identity-provider JWT is a parameter too, but an RS256 one is 600-900+ characters: held to 512 the IdentityJwt
 * mode could not work, so `jwt` has its own bound (docs/decisions.md).
 */
export const MAX_JWT_LENGTH = 8192

/** A parameter value: a string that is neither empty, only whitespace, nor longer than `max` characters. */
const parameterString = (name: string, max: number) =>
  text(name, (s) =>
    s.trim() === '' ? 'must not be empty or only whitespace' : s.length > max ? `must be at most ${max} characters long` : undefined)

export const ParameterString = parameterString('ParameterString', MAX_PARAMETER_LENGTH)
export const JwtString = parameterString('JwtString', MAX_JWT_LENGTH)

export const AccessTokenIdentifier = t.partial({
  authentication_code: ParameterString,
  identifier: ParameterString,
  pass_code: ParameterString,
})
export type AccessTokenIdentifier = t.TypeOf<typeof AccessTokenIdentifier>

/** The body, props declared in docs/behaviour.md, the method's order so that io-ts reports errors in that order. */
export const RequestBody = t.partial({
  jwt: JwtString,
  access_token_identifier: AccessTokenIdentifier,
  organisation: ParameterString,
  unit: ParameterString,
})
export type RequestBody = t.TypeOf<typeof RequestBody>

const topLevelNames = Object.keys(RequestBody.props)
const identifierNames = Object.keys(AccessTokenIdentifier.props)

/** What the HTTP edge found in the `Authorization` header (docs/behaviour.md, the validation matrix). */
export type KeyInput =
  | { readonly _tag: 'NoKey' }
  | { readonly _tag: 'Key'; readonly key: string }
  | { readonly _tag: 'MalformedAuthorization'; readonly reason: string }

export const noKey: KeyInput = { _tag: 'NoKey' }
export const keyOf = (key: string): KeyInput => ({ _tag: 'Key', key })

/** The request as it arrives: any JSON value as the body, the key beside it. */
export interface WireRequest {
  readonly body: unknown
  readonly key: KeyInput
}

/** A request whose every parameter has a valid shape; which combination is allowed is credentials.ts's job. */
export interface ConsumerRequest extends RequestBody {
  readonly key?: string
}

/** A copy holding only the known names whose value is not null: JSON null counts as absent (docs/behaviour.md, the validation matrix). */
const knownValues = (o: Record<string, unknown>, names: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const n of names) {
    const v = Object.prototype.hasOwnProperty.call(o, n) ? o[n] : undefined
    if (v !== null && v !== undefined) out[n] = v
  }
  return out
}

const editDistance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/** The known name closest to `name`, if it is close enough to be a likely typo. */
export const nearestName = (name: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k)
    if (d < bestDistance) [best, bestDistance] = [k, d]
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

const unknownParameter = (o: Record<string, unknown>, known: ReadonlyArray<string>, prefix: string): AuthError | undefined => {
  const name = Object.keys(o).find((k) => !known.includes(k))
  if (name === undefined) return undefined
  const suggestion = nearestName(name, known)
  const shown = JSON.stringify(prefix + name)
  return authError(
    'UNKNOWNPARAMETER',
    `${shown} is not a parameter of this method` +
      (suggestion ? `; did you mean "${prefix}${suggestion}"?` : `; known parameters are ${known.map((k) => prefix + k).join(', ')}`),
    [prefix + name],
  )
}

const fromIoTsErrors = (errors: t.Errors): AuthError => {
  const first = errors[0]
  const parameter = first ? formatPath(errorPath(first.context)) : ''
  const rule = first?.message ?? (parameter === 'access_token_identifier' ? 'must be an object' : 'has an invalid value')
  return authError('INVALIDPARAMETER', `${parameter} ${rule}`, [parameter])
}

const decodeKey = (input: KeyInput): E.Either<AuthError, string | undefined> => {
  switch (input._tag) {
    case 'NoKey':
      return E.right(undefined)
    case 'MalformedAuthorization':
      return E.left(authError('MALFORMEDREQUEST', `The Authorization header is malformed: ${input.reason}; send key as the Basic auth username with an empty password`, ['key']))
    case 'Key':
      return E.isRight(ParameterString.decode(input.key))
        ? E.right(input.key)
        : E.left(
            authError(
              'INVALIDPARAMETER',
              input.key.trim() === ''
                ? 'key (the Basic auth username) must not be empty or only whitespace'
                : `key (the Basic auth username) must be at most ${MAX_PARAMETER_LENGTH} characters long`,
              ['key'],
            ),
          )
  }
}

/** docs/behaviour.md, the validation matrix, points 1 (the object part), 2 and 3: shape, not combination. */
export const decodeRequest = (wire: WireRequest): E.Either<AuthError, ConsumerRequest> => {
  const { body } = wire
  if (!isPlainObject(body)) {
    return E.left(authError('MALFORMEDREQUEST', 'The request body must be a JSON object', []))
  }
  const top = knownValues(body, topLevelNames)
  const ati = top['access_token_identifier']
  const input = isPlainObject(ati) ? { ...top, access_token_identifier: knownValues(ati, identifierNames) } : top
  // `is` asks decode's question without building its contexts and results; decoding a valid input answers the input
  // itself (codec.ts), so only a refused one is decoded, for its first failure.
  const decoded: E.Either<t.Errors, RequestBody> = RequestBody.is(input) ? E.right(input) : RequestBody.decode(input)
  if (E.isLeft(decoded)) return E.left(fromIoTsErrors(decoded.left))
  const unknown =
    unknownParameter(body, topLevelNames, '') ??
    (isPlainObject(ati) ? unknownParameter(ati, identifierNames, 'access_token_identifier.') : undefined)
  if (unknown) return E.left(unknown)
  const key = decodeKey(wire.key)
  if (E.isLeft(key)) return key
  return E.right(key.right === undefined ? decoded.right : { ...decoded.right, key: key.right })
}
