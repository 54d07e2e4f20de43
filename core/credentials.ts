/**
 * @module credentials
 * resolveCredentials(release, request): the validation matrix of docs/behaviour.md, the release rules and the validation matrix as one pure function. It decodes the
 * request, then applies the rules in docs/behaviour.md, the validation matrix's order and answers with one of the three credential modes or the
 * first rule that fails. No store is touched here.
 */
import * as E from 'fp-ts/lib/Either.js'
import { authError, type AuthError } from './errors.js'
import { formatRelease, R15_0_0, R16_2_0, releaseOffer, type Release } from './release.js'
import { decodeRequest, type ConsumerRequest, type WireRequest } from './request.js'

export interface AuthenticationCode {
  readonly _tag: 'AuthenticationCode'
  /** Optional from R16.2.0; mandatory before. */
  readonly key?: string
  readonly authenticationCode: string
  readonly unit?: string
}

export interface IdentifierPassCode {
  readonly _tag: 'IdentifierPassCode'
  readonly key: string
  readonly identifier: string
  readonly passCode: string
  readonly unit?: string
}

export interface IdentityJwt {
  readonly _tag: 'IdentityJwt'
  readonly jwt: string
  readonly organisation: string
}

export type Credentials = AuthenticationCode | IdentifierPassCode | IdentityJwt
export type CredentialMode = Credentials['_tag']
export const credentialModes: ReadonlyArray<CredentialMode> = ['AuthenticationCode', 'IdentifierPassCode', 'IdentityJwt']

const ATI = 'access_token_identifier'
const CODE = `${ATI}.authentication_code`
const IDENTIFIER = `${ATI}.identifier`
const PASS_CODE = `${ATI}.pass_code`

/** A rule: undefined when it holds, the error when it does not. */
type Rule = (r: ConsumerRequest) => AuthError | undefined

const missing = (parameters: string[], message: string) => authError('MISSINGPARAMETER', message, parameters)
const conflicting = (parameters: string[], message: string) => authError('CONFLICTINGPARAMETERS', message, parameters)

/** docs/behaviour.md, the validation matrix: inside access_token_identifier. */
const identifierRules: ReadonlyArray<Rule> = [
  ({ access_token_identifier: a }) =>
    a && a.authentication_code === undefined && a.identifier === undefined
      ? missing([CODE, IDENTIFIER], `${ATI} must contain exactly one of authentication_code or identifier; neither was given`)
      : undefined,
  ({ access_token_identifier: a }) =>
    a && a.authentication_code !== undefined && a.identifier !== undefined
      ? conflicting([CODE, IDENTIFIER], `${ATI} must contain exactly one of authentication_code or identifier; both were given`)
      : undefined,
  ({ access_token_identifier: a }) =>
    a && a.identifier !== undefined && a.pass_code === undefined
      ? missing([PASS_CODE], `pass_code is mandatory when ${IDENTIFIER} is given`)
      : undefined,
  ({ access_token_identifier: a }) =>
    a && a.authentication_code !== undefined && a.pass_code !== undefined
      ? conflicting([PASS_CODE], `pass_code is not applicable when ${CODE} is given`)
      : undefined,
]

const newer = (parameter: string): AuthError =>
  authError(
    'PARAMETERNOTAVAILABLE',
    `${parameter} is available from CRM.COM ${formatRelease(R16_2_0)}; this deployment implements an earlier release`,
    [parameter],
  )

/** docs/behaviour.md, the release rules before R16.2.0: key and access_token_identifier mandatory, jwt and organisation unknown to the release. */
const legacyRules: ReadonlyArray<Rule> = [
  (r) => (r.jwt !== undefined ? newer('jwt') : undefined),
  (r) => (r.organisation !== undefined ? newer('organisation') : undefined),
  (r) => (r.key === undefined ? missing(['key'], 'key (the Basic auth username) is mandatory in this release') : undefined),
  (r) => (r.access_token_identifier === undefined ? missing([ATI], `${ATI} is mandatory in this release`) : undefined),
]

/** docs/behaviour.md, the release rules from R16.2.0. */
const currentRules: ReadonlyArray<Rule> = [
  (r) =>
    r.jwt === undefined && r.access_token_identifier === undefined
      ? missing(['jwt', ATI], `exactly one of jwt or ${ATI} must be given; neither was`)
      : undefined,
  (r) =>
    r.access_token_identifier?.identifier !== undefined && r.key === undefined
      ? missing(['key'], `key (the Basic auth username) is mandatory when ${IDENTIFIER} and pass_code are given`)
      : undefined,
  (r) => (r.jwt !== undefined && r.organisation === undefined ? missing(['organisation'], 'organisation is mandatory when jwt is given') : undefined),
  (r) =>
    r.jwt !== undefined && r.access_token_identifier !== undefined
      ? conflicting(['jwt', ATI], `exactly one of jwt or ${ATI} must be given; both were`)
      : undefined,
  (r) =>
    r.organisation !== undefined && r.jwt === undefined
      ? conflicting(['organisation'], 'organisation is applicable only when jwt is given')
      : undefined,
  (r) => (r.jwt !== undefined && r.key !== undefined ? conflicting(['key'], 'key must not be given with jwt') : undefined),
  (r) => (r.jwt !== undefined && r.unit !== undefined ? conflicting(['unit'], 'unit must not be given with jwt; only organisation may') : undefined),
]

const firstFailure = (rules: ReadonlyArray<Rule>, r: ConsumerRequest): AuthError | undefined => {
  for (const rule of rules) {
    const e = rule(r)
    if (e) return e
  }
  return undefined
}

/** Once every rule holds, exactly one mode fits. */
const toCredentials = (r: ConsumerRequest): Credentials => {
  const a = r.access_token_identifier
  const unit = r.unit === undefined ? {} : { unit: r.unit }
  if (a?.authentication_code !== undefined) {
    return { _tag: 'AuthenticationCode', authenticationCode: a.authentication_code, ...(r.key === undefined ? {} : { key: r.key }), ...unit }
  }
  if (a?.identifier !== undefined && a.pass_code !== undefined && r.key !== undefined) {
    return { _tag: 'IdentifierPassCode', key: r.key, identifier: a.identifier, passCode: a.pass_code, ...unit }
  }
  if (r.jwt !== undefined && r.organisation !== undefined) {
    return { _tag: 'IdentityJwt', jwt: r.jwt, organisation: r.organisation }
  }
  throw new Error('resolveCredentials: a request passed every rule but fits no mode')
}

export const methodNotAvailable = (release: Release): AuthError =>
  authError(
    'METHODNOTAVAILABLE',
    `authentication/consumer_application_key/token is available from CRM.COM ${formatRelease(R15_0_0)}; this deployment implements ${formatRelease(release)}`,
  )

export const resolveCredentials = (release: Release, wire: WireRequest): E.Either<AuthError, Credentials> => {
  const offer = releaseOffer(release)
  if (!offer.methodAvailable) return E.left(methodNotAvailable(release))
  // A plain branch rather than pipe + E.chain: fp-ts's pointfree `chain` copies its arguments on every call (`dual`),
  // which showed as 3 % of the request path's CPU.
  const decoded = decodeRequest(wire)
  if (E.isLeft(decoded)) return decoded
  const r = decoded.right
  const failure = firstFailure(identifierRules, r) ?? firstFailure(offer.identityJwt ? currentRules : legacyRules, r)
  return failure ? E.left(failure) : E.right(toCredentials(r))
}
