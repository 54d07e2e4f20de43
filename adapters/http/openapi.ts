/**
 * @module openapi
 * The OpenAPI 3.1 document of the routes this app serves (docs/operations.md, docs/configuration.md), built from the same facts the app is built from
 * (base path, release, whether a JWKS is published, the HTTP status mode) and the core's error catalogue, so that
 * it describes this deployment rather than a generic one. test/ops checks it against the router's own route table.
 */
import type { Router } from '@koa/router'
import {
  errorCatalogue, errorCode, errorNames, formatRelease, MAX_JWT_LENGTH, MAX_PARAMETER_LENGTH, R15_0_0, R16_2_0, releaseOffer, type ErrorName, type Release,
} from '../../core/index.js'
import type { HttpStatusMode } from './envelope.js'
import { SESSION_PATH } from './app.js'
import { MAX_BODY_BYTES } from './json-body.js'
import { RELEASE_PATH } from './release-route.js'
import { TOKEN_PATH } from './token-route.js'

export const OPENAPI_PATH = '/openapi.json'

export interface OpenApiOptions {
  readonly basePath: string
  readonly release: Release
  /** Whether /.well-known/jwks.json is served (an asymmetric key ring). */
  readonly jwks: boolean
  readonly httpStatus?: HttpStatusMode
  /** The package version, for info.version. */
  readonly version?: string
}

type Json = { readonly [k: string]: unknown }

const ref = (kind: 'schemas' | 'responses', name: string): Json => ({ $ref: `#/components/${kind}/${name}` })

/** A wire parameter (docs/behaviour.md, the validation matrix): JSON null counts as absent; a string must not be blank nor longer than its bound. */
const parameter = (description: string, max: number = MAX_PARAMETER_LENGTH): Json => ({
  type: ['string', 'null'],
  minLength: 1,
  maxLength: max,
  pattern: '\\S',
  description: `${description} Null counts as absent; an empty or blank value, or one longer than ${max} characters, is INVALIDPARAMETER.`,
})

/** "Given" in the sense of the validation matrix (docs/behaviour.md): present and not null. */
const given = (name: string, type: 'string' | 'object'): Json => ({ required: [name], properties: { [name]: { type } } })
const notGiven = (...names: Array<readonly [string, 'string' | 'object']>): Json =>
  names.length === 1 ? { not: given(names[0]![0], names[0]![1]) } : { not: { anyOf: names.map(([n, t]) => given(n, t)) } }

/** access_token_identifier: exactly one of authentication_code / identifier; pass_code with identifier only (docs/behaviour.md, the validation matrix). */
const accessTokenIdentifier: Json = {
  type: 'object',
  description: 'The consumer\'s access token: an authentication code alone, or an identifier with its pass code. ' +
    'Unknown members are UNKNOWNPARAMETER.',
  additionalProperties: false,
  properties: {
    authentication_code: parameter('Authenticates alone (semi-optional with identifier). Use high-entropy codes: keys ship inside apps.'),
    identifier: parameter('Identifies the access token; needs pass_code (semi-optional with authentication_code).'),
    pass_code: parameter('Mandatory with identifier; not applicable with authentication_code.'),
  },
  oneOf: [
    { allOf: [given('authentication_code', 'string'), notGiven(['identifier', 'string'], ['pass_code', 'string'])] },
    { allOf: [given('identifier', 'string'), given('pass_code', 'string'), notGiven(['authentication_code', 'string'])] },
  ],
}

const tokenRequest = (release: Release): Json => {
  const identityJwt = releaseOffer(release).identityJwt
  const properties = {
    jwt: identityJwt
      ? parameter('A token of the CRM.COM identity management system (semi-optional with access_token_identifier); only organisation may come with it, and no key.', MAX_JWT_LENGTH)
      : { type: 'null', description: `Not available before ${formatRelease(R16_2_0)} (this deployment implements ${formatRelease(release)}): any value but null is PARAMETERNOTAVAILABLE.` },
    access_token_identifier: identityJwt
      ? { anyOf: [ref('schemas', 'AccessTokenIdentifier'), { type: 'null' }], description: 'Semi-optional with jwt.' }
      : ref('schemas', 'AccessTokenIdentifier'),
    organisation: identityJwt
      ? parameter('The organisation on which the session is created: mandatory with jwt, not applicable without it.')
      : { type: 'null', description: `Not available before ${formatRelease(R16_2_0)} (this deployment implements ${formatRelease(release)}): any value but null is PARAMETERNOTAVAILABLE.` },
    unit: parameter('The unit the session logs in to (default: the user\'s default unit); not applicable with jwt.'),
  }
  const base = {
    type: 'object',
    description: `The body of the method at ${formatRelease(release)}. Unknown parameters are UNKNOWNPARAMETER (the message suggests the nearest known name). ` +
      'Which combinations are allowed is expressed below; the key (Basic auth) rules are under security.',
    additionalProperties: false,
    properties,
  }
  return identityJwt
    ? {
        ...base,
        oneOf: [
          { allOf: [given('access_token_identifier', 'object'), notGiven(['jwt', 'string'], ['organisation', 'string'])] },
          { allOf: [given('jwt', 'string'), given('organisation', 'string'), notGiven(['access_token_identifier', 'object'], ['unit', 'string'])] },
        ],
      }
    : { ...base, required: ['access_token_identifier'] }
}

const okStatus: Json = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'description', 'message'],
  properties: { code: { const: 'OK' }, description: { const: '' }, message: { const: '' } },
}

const okEnvelope = (data: Json): Json => ({
  type: 'object',
  additionalProperties: false,
  required: ['data', 'status'],
  properties: { data, status: ref('schemas', 'OkStatus') },
})

const consumerSession: Json = {
  type: 'object',
  additionalProperties: false,
  required: ['contactInformationId', 'accountsReceivableId', 'username', 'organisation', 'unit', 'sessionId', 'issuedAt', 'expiresAt'],
  properties: {
    contactInformationId: { type: 'string', description: 'cii' },
    accountsReceivableId: { type: 'string', description: 'ari' },
    username: { type: 'string', description: 'usr: the user the session runs as' },
    organisation: { type: 'string', description: 'org' },
    unit: { type: 'string', description: 'oun' },
    sessionId: { type: 'string', pattern: '^[0-9A-F]{32}$', description: 'jti' },
    issuedAt: { type: 'integer', description: 'iat, seconds since the epoch' },
    expiresAt: { type: 'integer', description: 'exp = iat + 7200' },
  },
}

const errorEnvelope: Json = {
  type: 'object',
  description: 'Every failure (docs/behaviour.md, the errors): data is null, status.code is COM.CRM.EXCEPTION.<AREA>.<NAME>EXCEPTION.',
  additionalProperties: false,
  required: ['data', 'status'],
  properties: {
    data: { type: 'null' },
    status: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'description', 'message'],
      properties: {
        code: { type: 'string', enum: errorNames.map(errorCode) },
        description: { type: 'string', enum: [...errorNames], description: 'The error name' },
        message: { type: 'string', description: 'What went wrong, naming the parameters and the rule; never a secret' },
      },
    },
  },
}

/** The statuses of the catalogue, each with the errors that answer it, in catalogue order. */
const errorsByStatus = (): Map<number, ErrorName[]> => {
  const by = new Map<number, ErrorName[]>()
  for (const name of errorNames) {
    const status = errorCatalogue[name].status
    by.set(status, [...(by.get(status) ?? []), name])
  }
  return by
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  413: 'PayloadTooLarge', 415: 'UnsupportedMediaType', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
}
const responseName = (status: number): string => STATUS_NAMES[status] ?? `Status${status}`

const HEADERS: Readonly<Record<number, Json>> = {
  401: { 'WWW-Authenticate': { description: 'With INVALIDAPPLICATIONKEY: Basic realm="consumer-auth", charset="UTF-8"', schema: { type: 'string' } } },
  405: { Allow: { description: 'The methods the path serves', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds until the subject may try again', schema: { type: 'integer', minimum: 1 } } },
  503: { 'Retry-After': { description: 'When the pass-code verification queue is full: seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } },
}

/** An error envelope restricted to some errors' codes. */
const errorsSchema = (names: ReadonlyArray<ErrorName>): Json => ({
  allOf: [
    ref('schemas', 'ErrorEnvelope'),
    { type: 'object', properties: { status: { type: 'object', properties: { code: { enum: names.map(errorCode) }, description: { enum: [...names] } } } } },
  ],
})

const errorResponse = (status: number, names: ReadonlyArray<ErrorName>): Json => ({
  description: names.map((n) => `${n} (${errorCode(n)}): ${errorCatalogue[n].message}.`).join(' ') +
    (status === 413 ? ` The limit is ${MAX_BODY_BYTES} bytes.` : '') +
    (status === 500 ? ' The message carries a correlation id that is in the log; no detail is given.' : ''),
  ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
  content: { 'application/json': { schema: errorsSchema(names) } },
})

export const openApiDocument = (options: OpenApiOptions): Json => {
  const { basePath, release } = options
  const envelopeMode = options.httpStatus === 'envelope'
  const byStatus = errorsByStatus()
  const offer = releaseOffer(release)

  /** An operation's responses: its success and the catalogue statuses it can fail with (all 200 in envelope mode). */
  const responses = (ok: Json, failures: ReadonlyArray<number>): Json => {
    if (!envelopeMode) return { '200': ok, ...Object.fromEntries(failures.map((s) => [String(s), ref('responses', responseName(s))])) }
    const names = failures.flatMap((s) => byStatus.get(s) ?? [])
    const okSchema = (ok as { content?: { 'application/json'?: { schema?: Json } } }).content?.['application/json']?.schema
    return {
      '200': {
        description: `${String(ok['description'])} With HTTP_STATUS=envelope every failure is answered with 200 too: ` +
          'read status.code (and Retry-After, WWW-Authenticate as in standard mode).',
        content: { 'application/json': { schema: okSchema ? { oneOf: [okSchema, errorsSchema(names)] } : errorsSchema(names) } },
      },
    }
  }

  const json = (description: string, schema: Json): Json => ({ description, content: { 'application/json': { schema } } })

  const tokenOperation: Json = {
    operationId: 'issueSessionToken',
    summary: 'authentication/consumer_application_key/token: consumer application key + consumer credential -> session token',
    description: [
      'Returns a JWT session token, valid for two hours, that gives access only to the data of the consumer identified.',
      offer.methodAvailable
        ? offer.identityJwt
          ? 'Credential modes: access_token_identifier.authentication_code (key optional), access_token_identifier.identifier + pass_code (key mandatory), jwt + organisation (no key).'
          : `Before ${formatRelease(R16_2_0)} the key and access_token_identifier are mandatory; jwt and organisation are not available.`
        : `The method appears in ${formatRelease(R15_0_0)}; this deployment implements ${formatRelease(release)}, so it answers 404 METHODNOTAVAILABLE.`,
      `Body: application/json (charset utf-8 at most), at most ${MAX_BODY_BYTES} bytes.`,
    ].join(' '),
    tags: ['Web API'],
    security: offer.identityJwt ? [{ consumerApplicationKey: [] }, {}] : [{ consumerApplicationKey: [] }],
    requestBody: { required: true, content: { 'application/json': { schema: ref('schemas', 'TokenRequest') } } },
    responses: offer.methodAvailable
      ? responses(
          { description: 'The session token', headers: { 'Cache-Control': { schema: { const: 'no-store' } } }, content: { 'application/json': { schema: ref('schemas', 'TokenEnvelope') } } },
          [400, 401, 403, 413, 415, 429, 500, 503],
        )
      : // The route answers 404 before reading anything: there is no success to describe.
        envelopeMode
        ? responses({ description: 'Never a success: the method is not available at this release.' }, [404, 500])
        : { '404': ref('responses', 'NotFound'), '500': ref('responses', 'InternalError') },
  }

  const paths: Record<string, Json> = {
    [basePath + TOKEN_PATH]: { post: tokenOperation },
    [basePath + SESSION_PATH]: {
      get: {
        operationId: 'checkSessionToken',
        summary: 'Verifies a session token and returns its session',
        description: 'The token is taken from the token query parameter, else from the token field of a JSON body, else from Authorization: Bearer.',
        tags: ['Web API'],
        security: [{ sessionTokenQuery: [] }, { sessionTokenBearer: [] }],
        responses: responses(json('The session the token carries', ref('schemas', 'SessionEnvelope')), [401, 500, 503]),
      },
    },
    [basePath + RELEASE_PATH]: {
      post: {
        operationId: 'releaseSessionToken',
        summary: 'authentication/token/release: releases (logs out) a session token',
        description: 'The token is taken from the token field of a JSON body (or the token query parameter), else from Authorization: Bearer. ' +
          'From then on the session route refuses it, and so does every verifier with a revocation check (within its cache time). ' +
          'Releasing a released session again answers OK.',
        tags: ['Web API'],
        security: [{ sessionTokenBearer: [] }, {}],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', properties: { token: { type: 'string', description: 'The session token' } } } } },
        },
        responses: responses(
          { description: 'Released (data is null)', headers: { 'Cache-Control': { schema: { const: 'no-store' } } }, content: { 'application/json': { schema: okEnvelope({ type: 'null' }) } } },
          [401, 500, 503],
        ),
      },
    },
    ...(options.jwks
      ? {
          '/.well-known/jwks.json': {
            get: {
              operationId: 'jwks',
              security: [],
              summary: 'The public keys that verify session tokens (ES256 and EdDSA keys of the ring)',
              description: 'Follows the key ring through reloads (SIGHUP); while the ring holds no asymmetric key the path answers 404.',
              tags: ['Operations'],
              responses: {
                '404': ref('responses', 'NotFound'),
                '200': json('A JSON Web Key Set (RFC 7517)', {
                  type: 'object',
                  required: ['keys'],
                  properties: { keys: { type: 'array', items: { type: 'object', required: ['kty', 'kid'], properties: { kty: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' }, use: { type: 'string' } } } } },
                }),
              },
            },
          },
        }
      : {}),
    '/health/live': {
      get: {
        operationId: 'live',
        security: [],
        summary: 'Liveness: the process answers',
        tags: ['Operations'],
        responses: responses(json('Live', okEnvelope({ type: 'object', required: ['status'], properties: { status: { const: 'live' } } })), [500]),
      },
    },
    '/health/ready': {
      get: {
        operationId: 'ready',
        security: [],
        summary: 'Readiness: the store is reachable and migrated',
        description: 'Always answers its real status, also with HTTP_STATUS=envelope: load balancers read the status line.',
        tags: ['Operations'],
        responses: {
          '200': json('Ready', okEnvelope({ type: 'object', required: ['status'], properties: { status: { const: 'ready' } } })),
          '503': ref('responses', 'ServiceUnavailable'),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        security: [],
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['Operations'],
        responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'openapi',
        security: [],
        summary: 'This document',
        tags: ['Operations'],
        responses: { '200': json('An OpenAPI 3.1 document', { type: 'object' }) },
      },
    },
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'consumer-auth',
      version: options.version ?? '0.0.0',
      summary: 'CRM.COM Web API method POST authentication/consumer_application_key/token',
      description: [
        `Implements CRM.COM release ${formatRelease(release)}. Every Web API response is the CRM.COM envelope.`,
        envelopeMode
          ? 'This deployment answers failures with HTTP 200 (HTTP_STATUS=envelope); status.code says what failed.'
          : 'Failures carry the HTTP status of the error catalogue.',
        'Any path not listed answers 404 METHODNOTAVAILABLE; a method a listed path does not serve answers 405 METHODNOTALLOWED ' +
          'with Allow (HEAD is served wherever GET is). Paths match exactly: case and a trailing slash count. OPTIONS on a listed ' +
          'path answers 200 with the OK envelope, data.allow and Allow naming its methods. Requests the HTTP layer refuses (400 ' +
          'malformed, 408 too slow, 413/431 too large, 417 Expect) get the envelope too, with that status in every mode, and ' +
          'the connection is closed. Responses carry X-Request-Id (taken from the request when sane, else generated).',
      ].join(' '),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: the document is served by the deployment it describes, whatever its host name.
    servers: [{ url: '/', description: 'this deployment (health, metrics and this document on OPS_PORT when it is set)' }],
    tags: [
      { name: 'Web API', description: `Under the base path ${basePath || '/'}` },
      { name: 'Operations', description: 'Health, metrics, this document and the public keys: no credentials' },
    ],
    paths,
    components: {
      securitySchemes: {
        consumerApplicationKey: {
          type: 'http',
          scheme: 'basic',
          description: 'The consumer application key as the username, with an empty password (`key:`, or `key` without a colon).',
        },
        sessionTokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'The session token as the token query parameter.' },
        sessionTokenBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The session token as a bearer token.' },
      },
      schemas: {
        TokenRequest: tokenRequest(release),
        AccessTokenIdentifier: accessTokenIdentifier,
        OkStatus: okStatus,
        TokenEnvelope: okEnvelope({ type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string', minLength: 33, description: 'JWS compact; claims cii, usr, org, ari, oun, iat, exp, jti' } } }),
        ConsumerSession: consumerSession,
        SessionEnvelope: okEnvelope({ type: 'object', additionalProperties: false, required: ['session'], properties: { session: ref('schemas', 'ConsumerSession') } }),
        ErrorEnvelope: errorEnvelope,
      },
      // Only the answers some operation gives: 405 (a method a path does not serve) is no operation's, and is
      // described above; in envelope mode most failures are a 200.
      responses: Object.fromEntries(
        [...byStatus].sort(([a], [b]) => a - b)
          .filter(([status]) => JSON.stringify(paths).includes(`"#/components/responses/${responseName(status)}"`))
          .map(([status, names]) => [responseName(status), errorResponse(status, names)]),
      ),
    },
  }
}

/** Serves the document, built once: it depends only on start-up facts. */
export const serveOpenApi = (router: Router, document: Json): void => {
  const body = JSON.stringify(document)
  router.get(OPENAPI_PATH, (ctx) => {
    ctx.status = 200
    ctx.body = body
    ctx.type = 'application/json'
  })
}
