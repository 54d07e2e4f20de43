/**
 * The token route's expectations as one table, run by the standalone service's end-to-end suite
 * (test/e2e/token.e2e.test.ts) and by the embedded issuer's (test/embed/consumer-auth.test.ts), so that both answer
 * the same requests the same way: every error the route can produce, by a real request, and the documented example.
 * Routes are relative to the base path the service under test was given.
 */
import { expect } from 'vitest'
import { basic, rawRequest, type RawResponse } from './service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE } from './example.js'
import { SESSION_PATH } from '../../adapters/http/app.js'
import { TOKEN_PATH } from '../../adapters/http/token-route.js'


interface CaseRequest {
  readonly method?: string
  readonly route: 'token' | 'session'
  /** Appended to the route, e.g. `?token=abc`; `{token}` is replaced by a token just issued for the documented example. */
  readonly query?: string
  readonly headers?: Record<string, string>
  readonly body?: string | object
}

interface CaseExpectation {
  readonly status: number
  /** The error's name, e.g. MISSINGPARAMETER; absent for a success. */
  readonly error?: string
  /** Text the error message contains (a parameter's name, a limit). */
  readonly mentions?: ReadonlyArray<string>
  /** Headers whose value must match. */
  readonly headers?: Readonly<Record<string, RegExp>>
  /** For a success: fields of `data` that must be present. */
  readonly data?: ReadonlyArray<string>
}

export interface TokenCase {
  readonly name: string
  readonly request: CaseRequest
  readonly expect: CaseExpectation
}

const auth = { Authorization: EXAMPLE_AUTHORIZATION }
const json = { 'content-type': 'application/json' }
const token = (name: string, body: string | object, status: number, error: string, mentions: ReadonlyArray<string> = [], headers: Record<string, string> = auth): TokenCase => ({
  name,
  request: { route: 'token', headers: { ...json, ...headers }, body },
  expect: { status, error, mentions },
})

/** The requests of the default service (release R16.2.0, standard statuses, default lock-out), in the order run. */
export const tokenCases: ReadonlyArray<TokenCase> = [
  { name: 'the documented example answers a token', request: { route: 'token', headers: { ...json, ...auth }, body: EXAMPLE_BODY }, expect: { status: 200, data: ['token'], headers: { 'cache-control': /no-store/ } } },
  { name: 'the session route answers the session of a token', request: { method: 'GET', route: 'session', query: '?token={token}' }, expect: { status: 200, data: ['session'] } },
  { name: 'UNSUPPORTEDMEDIATYPE for a text/plain body', request: { route: 'token', headers: { 'content-type': 'text/plain', ...auth }, body: EXAMPLE_BODY }, expect: { status: 415, error: 'UNSUPPORTEDMEDIATYPE', mentions: ['application/json'] } },
  token('PAYLOADTOOLARGE for a body over 16 KiB', { unit: 'x'.repeat(17 * 1024) }, 413, 'PAYLOADTOOLARGE', ['16384']),
  token('MALFORMEDREQUEST for unparsable JSON', '{"unit":', 400, 'MALFORMEDREQUEST', ['JSON']),
  token('MALFORMEDREQUEST for a body that is not an object', '[1,2]', 400, 'MALFORMEDREQUEST', ['object']),
  token('MALFORMEDREQUEST for a key with a password', EXAMPLE_BODY, 400, 'MALFORMEDREQUEST', ['password'], { Authorization: basic(EXAMPLE_KEY, 'secret') }),
  token('MALFORMEDREQUEST for a Bearer key', EXAMPLE_BODY, 400, 'MALFORMEDREQUEST', ['Basic'], { Authorization: `Bearer ${EXAMPLE_KEY}` }),
  token('MALFORMEDREQUEST for a key that is not base64', EXAMPLE_BODY, 400, 'MALFORMEDREQUEST', ['base64'], { Authorization: 'Basic ***' }),
  token('MISSINGPARAMETER access_token_identifier', { unit: '1' }, 400, 'MISSINGPARAMETER', ['access_token_identifier']),
  token('MISSINGPARAMETER pass_code', { access_token_identifier: { identifier: EXAMPLE_IDENTIFIER } }, 400, 'MISSINGPARAMETER', ['pass_code']),
  token('MISSINGPARAMETER key (identifier and pass code without a key)', { access_token_identifier: { identifier: EXAMPLE_IDENTIFIER, pass_code: EXAMPLE_PASS_CODE } }, 400, 'MISSINGPARAMETER', ['key'], {}),
  token('MISSINGPARAMETER organisation (jwt without one)', { jwt: 'a.b.c' }, 400, 'MISSINGPARAMETER', ['organisation'], {}),
  token('INVALIDPARAMETER for a blank authentication code', { access_token_identifier: { authentication_code: '  ' } }, 400, 'INVALIDPARAMETER', ['access_token_identifier.authentication_code']),
  token('INVALIDPARAMETER for an access_token_identifier that is text', { access_token_identifier: EXAMPLE_CODE }, 400, 'INVALIDPARAMETER', ['access_token_identifier']),
  token('INVALIDPARAMETER for a unit over 512 characters', { access_token_identifier: { authentication_code: 'x' }, unit: 'u'.repeat(513) }, 400, 'INVALIDPARAMETER', ['unit']),
  token('INVALIDPARAMETER for a number as authentication code', { access_token_identifier: { authentication_code: 7 } }, 400, 'INVALIDPARAMETER', ['authentication_code']),
  token('UNKNOWNPARAMETER with the nearest known name', { jwt: 'a.b.c', organization: 'ps_dev' }, 400, 'UNKNOWNPARAMETER', ['organization', 'did you mean "organisation"'], {}),
  token('UNKNOWNPARAMETER inside access_token_identifier', { access_token_identifier: { authentication_code: 'x', passcode: '1' } }, 400, 'UNKNOWNPARAMETER', ['access_token_identifier.passcode']),
  token('CONFLICTINGPARAMETERS authentication code and identifier', { access_token_identifier: { authentication_code: 'x', identifier: 'y' } }, 400, 'CONFLICTINGPARAMETERS', ['identifier']),
  token('CONFLICTINGPARAMETERS jwt and access_token_identifier', { jwt: 'a.b.c', organisation: 'ps_dev', access_token_identifier: { authentication_code: 'x' } }, 400, 'CONFLICTINGPARAMETERS', ['jwt'], {}),
  token('CONFLICTINGPARAMETERS organisation with a key', { access_token_identifier: { authentication_code: 'x' }, organisation: 'ps_dev' }, 400, 'CONFLICTINGPARAMETERS', ['organisation']),
  token('CONFLICTINGPARAMETERS jwt with a key', { jwt: 'a.b.c', organisation: 'ps_dev' }, 400, 'CONFLICTINGPARAMETERS', ['key']),
  {
    ...token('INVALIDAPPLICATIONKEY with WWW-Authenticate', EXAMPLE_BODY, 401, 'INVALIDAPPLICATIONKEY', ['key'], { Authorization: basic('00000000000000000000000000000000') }),
    expect: { status: 401, error: 'INVALIDAPPLICATIONKEY', mentions: ['key'], headers: { 'www-authenticate': /^Basic / } },
  },
  token('INVALIDACCESSTOKEN for a wrong code with a key', { access_token_identifier: { authentication_code: 'wrong' } }, 401, 'INVALIDACCESSTOKEN', ['access_token_identifier']),
  token('INVALIDACCESSTOKEN for a wrong code without a key', { access_token_identifier: { authentication_code: 'wrong' } }, 401, 'INVALIDACCESSTOKEN', ['access_token_identifier'], {}),
  token('INVALIDORGANISATION in the identity-JWT mode', { jwt: 'a.b.c', organisation: 'nope' }, 401, 'INVALIDORGANISATION', ['organisation'], {}),
  token('INVALIDIDENTITYTOKEN in the identity-JWT mode', { jwt: 'a.b.c', organisation: 'ps_dev' }, 401, 'INVALIDIDENTITYTOKEN', ['jwt'], {}),
  token('INVALIDUNIT (403) for a unit the user does not belong to', { access_token_identifier: { authentication_code: EXAMPLE_CODE }, unit: '99' }, 403, 'INVALIDUNIT', ['unit']),
  { name: 'INVALIDTOKEN on the session route for a bad token', request: { method: 'GET', route: 'session', query: '?token=abc' }, expect: { status: 401, error: 'INVALIDTOKEN', mentions: ['token'] } },
  { name: 'INVALIDTOKEN on the session route without a token', request: { method: 'GET', route: 'session' }, expect: { status: 401, error: 'INVALIDTOKEN', mentions: ['token'] } },
  { name: 'METHODNOTALLOWED (405) for GET on the token route', request: { method: 'GET', route: 'token' }, expect: { status: 405, error: 'METHODNOTALLOWED', mentions: ['GET'], headers: { allow: /POST/ } } },
]

/** A service run with other settings (by their `serve` flag), and what it answers. */
export interface TokenVariant {
  readonly name: string
  readonly flags: Readonly<Record<string, string>>
  readonly cases: ReadonlyArray<TokenCase>
}

const wrongCode = { access_token_identifier: { authentication_code: 'wrong' } }

export const tokenVariants: ReadonlyArray<TokenVariant> = [
  {
    name: 'R15.0.0: jwt is PARAMETERNOTAVAILABLE naming R16.2.0, and the key is mandatory',
    flags: { release: 'R15.0.0' },
    cases: [
      token('jwt is not available before R16.2.0', { jwt: 'a.b.c', organisation: 'ps_dev' }, 400, 'PARAMETERNOTAVAILABLE', ['jwt', 'R16.2.0'], {}),
      token('the key is mandatory', { access_token_identifier: { authentication_code: EXAMPLE_CODE }, unit: '1' }, 400, 'MISSINGPARAMETER', ['key'], {}),
      { name: 'the documented example answers a token', request: { route: 'token', headers: { ...json, ...auth }, body: EXAMPLE_BODY }, expect: { status: 200, data: ['token'] } },
    ],
  },
  {
    name: 'R14.0.0: the method is not available (404)',
    flags: { release: 'R14.0.0' },
    cases: [token('the method is not available', EXAMPLE_BODY, 404, 'METHODNOTAVAILABLE', ['R15.0.0'])],
  },
  {
    name: 'TOOMANYATTEMPTS (429) with Retry-After once a key reaches its threshold, without checking the credential',
    flags: { 'lockout-key': '2' },
    cases: [
      token('a first wrong code', wrongCode, 401, 'INVALIDACCESSTOKEN'),
      token('a second wrong code', wrongCode, 401, 'INVALIDACCESSTOKEN'),
      { ...token('then even the right code is refused', EXAMPLE_BODY, 429, 'TOOMANYATTEMPTS'), expect: { status: 429, error: 'TOOMANYATTEMPTS', headers: { 'retry-after': /^[1-9]\d*$/ } } },
    ],
  },
  {
    name: 'HTTP_STATUS=envelope answers failures with 200 and the error envelope',
    flags: { 'http-status': 'envelope' },
    cases: [
      { name: 'a missing parameter', request: { route: 'token', headers: { ...json, ...auth }, body: { unit: '1' } }, expect: { status: 200, error: 'MISSINGPARAMETER' } },
    ],
  },
]

/** Where a service under test answers: its URL and the base path it was given. */
export interface Target {
  readonly url: string
  readonly basePath: string
}

/** Sends a case's request (issuing the documented example's token first when the query needs one). */
export const sendCase = async (target: Target, c: TokenCase): Promise<RawResponse> => {
  let query = c.request.query ?? ''
  if (query.includes('{token}')) {
    const issued = await rawRequest(target.url, { path: target.basePath + TOKEN_PATH, headers: { ...json, ...auth }, body: EXAMPLE_BODY })
    query = query.replace('{token}', String(issued.json?.data?.token))
  }
  const body = c.request.body === undefined ? undefined : typeof c.request.body === 'string' ? c.request.body : JSON.stringify(c.request.body)
  return rawRequest(target.url, {
    method: c.request.method ?? 'POST',
    path: target.basePath + (c.request.route === 'token' ? TOKEN_PATH : SESSION_PATH) + query,
    headers: c.request.headers ?? {},
    ...(body === undefined ? {} : { body }),
  })
}

/** The CRM.COM envelope of an error, or of a success with the expected data. */
const expectAnswer = (r: RawResponse, e: CaseExpectation): void => {
  expect(r.status, r.text).toBe(e.status)
  expect(Object.keys(r.json)).toEqual(['data', 'status'])
  if (e.error === undefined) {
    expect(r.json.status).toEqual({ code: 'OK', description: '', message: '' })
    for (const field of e.data ?? []) expect(r.json.data[field], field).toBeDefined()
  } else {
    expect(r.json.data).toBeNull()
    expect(r.json.status.code).toMatch(new RegExp(`^COM\\.CRM\\.EXCEPTION\\.(VALIDATION|AUTHENTICATION|GENERAL)\\.${e.error}EXCEPTION$`))
    expect(typeof r.json.status.message).toBe('string')
    for (const m of e.mentions ?? []) expect(r.json.status.message).toContain(m)
  }
  for (const [name, pattern] of Object.entries(e.headers ?? {})) expect(String(r.headers[name]), name).toMatch(pattern)
}

/** Runs one case against a target and checks its answer; answers the response (for comparisons). */
export const checkCase = async (target: Target, c: TokenCase): Promise<RawResponse> => {
  const r = await sendCase(target, c)
  expectAnswer(r, c.expect)
  return r
}
