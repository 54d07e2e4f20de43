/**
 * @module test/fuzz/oracle
 * What the fuzz suite holds every answer to.
 *
 * Which requests may be answered with a token: `expectedGrant` decides from the request's bytes alone, written from
 * SPEC 2-4 and the seed (fixture.ts), never from the service's code. It is deliberately LENIENT in what it reads
 * (header spelling, Authorization decoding) and STRICT in the credentials: so "a token was issued" implies "these
 * credentials are one of the valid combinations" without false alarms about spelling, and for the canonical arms
 * (valid, structured), whose spelling is exact, it also says which requests MUST be answered 200. Paths are matched
 * exactly (case and a trailing slash count; docs/decisions.md), and a body that gives a name twice in one object
 * gets no token (counted here by colons outside strings against the names JSON.parse kept: an independent model of
 * the service's scanner).
 *
 * What every answer must look like (`checkOutcome`):
 * - Answers of the app (they carry X-Request-Id, set by its outermost middleware) are the envelope
 *   `{data, status: {code, description, message}}` with `code` = OK or a catalogued `errorCode(name)`, `description`
 *   the name, the HTTP status the catalogue's (or 200 in `envelope` mode), `data` null on failure, Content-Type JSON;
 *   never a 5xx (the store stays up in this suite, so not even 503). Exceptions, by design, not envelopes:
 *     GET/HEAD /metrics (Prometheus text), /openapi.json (the OpenAPI document), /.well-known/jwks.json (a JWKS,
 *     served with an asymmetric ring only); HEAD answers (no body by definition). OPTIONS on a route is the OK
 *     envelope with `data.allow` = the Allow header = the route's methods.
 * - Answers of node:http itself (no X-Request-Id): 400 (malformed request line or headers: control characters, bad
 *   method tokens, conflicting framing, no Host), 431 (header section over 16 KiB), 413 (chunk extensions too
 *   large), 408 (too slow), 417 (an Expect other than 100-continue): each the envelope too, MALFORMEDREQUEST or
 *   PAYLOADTOOLARGE, with that protocol status in every mode and `Connection: close`.
 * - No answer at all: only for CONNECT (node:http closes such connections when nobody listens for 'connect') and for
 *   requests whose header section Node refuses as too large (the 431 may be lost to the reset of a connection whose
 *   bytes were not all read). Anything else, and any time-out, is a failure.
 * - A token (200 with data.token) only for a POST to the token route with valid credentials, and its claims are
 *   those of the credential's organisation, consumer, user and unit; a session (200 on the session route) only for a
 *   session id this suite was issued, with that token's claims.
 */
import { errorCatalogue, errorCode, httpStatusOf, type ErrorName } from '../../core/errors.js'
import { SESSION_PATH, TOKEN_PATH } from '../../adapters/http/index.js'
import { ACTIVE_KEYS, PS_DEV, USABLE_CODES, type FuzzServiceConfig, type Grant, type IdentityTokens } from './fixture.js'
import { EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE } from '../support/example.js'
import type { FuzzCase } from './arbitraries.js'
import type { Outcome } from './raw-client.js'
import { decodeJwtPart } from '../support/jwt.js'

export interface Expectation {
  readonly grant: Grant
  readonly unit: string
}

const codeToName = new Map<string, ErrorName>((Object.keys(errorCatalogue) as ErrorName[]).map((n) => [errorCode(n), n]))

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)
const given = (u: unknown) => u !== undefined && u !== null
const own = (o: Record<string, unknown>, k: string) => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined)

/**
 * The path a request target names, as the router sees it: an absolute-form scheme and host dropped, query and
 * fragment cut; not decoded, not folded (`/%6Detrics` and `/METRICS` are no route).
 */
const routePath = (target: string): string => target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').split('?')[0]!.split('#')[0]!

/**
 * Does the body give a name twice in one object? Valid JSON has exactly one colon outside strings per object
 * member; JSON.parse keeps one own property per distinct name. Fewer properties than colons: a name was repeated.
 */
const repeatsAName = (text: string, parsed: unknown): boolean => {
  const colons = (text.replace(/"(?:[^"\\]|\\.)*"/g, '').match(/:/g) ?? []).length
  const properties = (u: unknown): number =>
    typeof u !== 'object' || u === null ? 0 : Array.isArray(u) ? u.reduce((n: number, x) => n + properties(x), 0) : Object.keys(u).reduce((n, k) => n + 1 + properties((u as Record<string, unknown>)[k]), 0)
  return properties(parsed) < colons
}

/** The key of one Authorization value; lenient: any scheme spelling and spacing, lenient base64, a password ignored. */
const keyFrom = (value: string, strict: boolean): string | 'malformed' => {
  const m = strict ? /^[Bb][Aa][Ss][Ii][Cc] ([A-Za-z0-9+/]+={0,2})$/.exec(value) : /^\s*basic\s+(\S+)\s*$/i.exec(value)
  if (!m) return 'malformed'
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (strict && colon >= 0 && colon < decoded.length - 1) return 'malformed'
  return colon >= 0 ? decoded.slice(0, colon) : decoded
}

const headerValues = (c: FuzzCase, name: string) => c.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim())

/**
 * The session a request must (canonical arms) or may (any request) be granted, or undefined when it must not get a
 * token. `strict` reads the request as exactly as the canonical arms write it.
 */
export const expectedGrant = (cfg: FuzzServiceConfig, identity: IdentityTokens, c: FuzzCase, strict: boolean): Expectation | undefined => {
  const r16 = cfg.release === 'R16.2.0'
  if (c.method !== 'POST') return undefined
  const route = cfg.basePath + TOKEN_PATH
  if ((strict ? c.target.split('?')[0]! : routePath(c.target)) !== route) return undefined
  const contentType = headerValues(c, 'content-type')[0]
  if (contentType === undefined || !/^application\/json/i.test(contentType)) return undefined
  const auth = headerValues(c, 'authorization')
  if (auth.length > 1) return undefined
  const key = auth.length === 0 ? undefined : keyFrom(auth[0]!, strict)
  if (key === 'malformed') return undefined
  let body: unknown
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(c.body)
    body = JSON.parse(text)
    if (repeatsAName(text, body)) return undefined
  } catch {
    return undefined
  }
  if (!isPlainObject(body)) return undefined
  if (Object.keys(body).some((k) => !['jwt', 'access_token_identifier', 'organisation', 'unit'].includes(k))) return undefined
  const jwt = own(body, 'jwt')
  const organisation = own(body, 'organisation')
  const ati = own(body, 'access_token_identifier')
  const unit = own(body, 'unit')
  if (given(jwt)) {
    if (!r16 || key !== undefined || given(ati) || given(unit)) return undefined
    if (typeof jwt !== 'string' || !identity.valid.includes(jwt) || organisation !== PS_DEV.org) return undefined
    return { grant: PS_DEV, unit: PS_DEV.defaultUnit }
  }
  if (given(organisation) || !isPlainObject(ati)) return undefined
  if (Object.keys(ati).some((k) => !['authentication_code', 'identifier', 'pass_code'].includes(k))) return undefined
  const code = own(ati, 'authentication_code')
  const identifier = own(ati, 'identifier')
  const passCode = own(ati, 'pass_code')
  let grant: Grant | undefined
  if (given(code)) {
    if (given(identifier) || given(passCode) || typeof code !== 'string') return undefined
    grant = USABLE_CODES.get(code)
    if (grant === undefined) return undefined
    if (key === undefined ? !r16 : ACTIVE_KEYS.get(key) !== grant) return undefined
  } else if (given(identifier)) {
    if (identifier !== EXAMPLE_IDENTIFIER || passCode !== EXAMPLE_PASS_CODE || key !== EXAMPLE_KEY) return undefined
    grant = PS_DEV
  } else {
    return undefined
  }
  if (!given(unit)) return { grant, unit: grant.defaultUnit }
  return typeof unit === 'string' && grant.units.includes(unit) ? { grant, unit } : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Answers

interface IssuedClaims {
  readonly org: string
  readonly cii: string
  readonly ari: string
  readonly usr: string
  readonly oun: string
}

export interface CheckContext {
  readonly cfg: FuzzServiceConfig
  readonly identity: IdentityTokens
  /** jti -> claims of every token this suite was issued by this service. */
  readonly issued: Map<string, IssuedClaims>
}

export interface Verdict {
  /** For the tally: e.g. `app 401 INVALIDAPPLICATIONKEY`, `node 400`, `closed CONNECT`. */
  readonly label: string
  readonly violations: ReadonlyArray<string>
  /** A token was issued (its claims are in ctx.issued). */
  readonly token?: string
}

const NON_ENVELOPE_GET = (cfg: FuzzServiceConfig) => ['/metrics', '/openapi.json', ...(cfg.jwks ? ['/.well-known/jwks.json'] : [])]

/** Node's parser refuses header sections over 16 KiB (its default maxHeaderSize). */
const headerBytes = (c: FuzzCase) => c.method.length + c.target.length + c.headers.reduce((n, [a, b]) => n + a.length + b.length + 4, 0)

/** node:http's own refusals: status -> the catalogued failure its envelope carries (docs/decisions.md). */
const NODE_ANSWERS = new Map<number, ErrorName>([[400, 'MALFORMEDREQUEST'], [408, 'MALFORMEDREQUEST'], [413, 'PAYLOADTOOLARGE'], [417, 'MALFORMEDREQUEST'], [431, 'PAYLOADTOOLARGE']])

/** The methods of the route at `path` (the Allow header of its answers), or undefined when no route is there. */
const routeMethods = (cfg: FuzzServiceConfig, path: string): ReadonlyArray<string> | undefined =>
  path === cfg.basePath + TOKEN_PATH ? ['POST'] : [cfg.basePath + SESSION_PATH, '/health/live', '/health/ready', ...NON_ENVELOPE_GET(cfg)].includes(path) ? ['HEAD', 'GET'] : undefined

/** Is the answer the failure envelope of `name`, with HTTP `status` and a JSON Content-Type? */
const envelopeViolations = (o: Extract<Outcome, { kind: 'response' }>, name: ErrorName, status: number): string[] => {
  const v: string[] = []
  if (o.status !== status) v.push(`HTTP ${o.status} for ${name} (want ${status})`)
  if (!/^application\/json/i.test(o.headers.get('content-type')?.[0] ?? '')) v.push(`Content-Type ${JSON.stringify(o.headers.get('content-type'))}`)
  let env: any
  try {
    env = JSON.parse(o.body.toString('utf8'))
  } catch {
    return [...v, `not JSON: ${JSON.stringify(o.body.toString('utf8').slice(0, 120))}`]
  }
  if (!isPlainObject(env) || env.data !== null || !isPlainObject(env.status) || env.status.code !== errorCode(name) || env.status.description !== name || typeof env.status.message !== 'string') {
    v.push(`not the ${name} envelope: ${JSON.stringify(o.body.toString('utf8').slice(0, 160))}`)
  }
  return v
}

export const checkOutcome = (ctx: CheckContext, c: FuzzCase, o: Outcome): Verdict => {
  const v: string[] = []
  const { cfg } = ctx
  if (o.kind === 'timeout') return { label: 'timeout', violations: [`no answer within the time-out (${o.received} bytes received)`] }
  if (o.kind === 'closed') {
    const ok = c.method === 'CONNECT' || headerBytes(c) > 16 * 1024 - 512
    return { label: `closed ${c.method === 'CONNECT' ? 'CONNECT' : 'oversize'}`, violations: ok ? [] : [`the connection closed without an answer (${o.error ?? 'eof'}, ${o.received} bytes)`] }
  }
  if (o.trailing > 0) v.push(`${o.trailing} bytes after the answer`)
  if (o.lengthMismatch) v.push('the body is shorter than its Content-Length')
  const fromApp = o.headers.has('x-request-id')
  if (!fromApp) {
    const want = NODE_ANSWERS.get(o.status)
    if (want === undefined) v.push(`a non-app answer ${o.status}`)
    // (A HEAD answer's body is not read: raw-client.ts drops it.)
    else if (c.method !== 'HEAD') v.push(...envelopeViolations(o, want, o.status))
    if (o.headers.get('connection')?.[0] !== 'close') v.push(`node ${o.status} without Connection: close`)
    return { label: `node ${o.status}`, violations: v }
  }
  if (o.status >= 500) v.push(`HTTP ${o.status}`)
  const path = routePath(c.target)
  const text = o.body.toString('utf8')
  if (c.method === 'HEAD') {
    if (o.body.length > 0) v.push('a HEAD answer with a body')
    return { label: `app HEAD ${o.status}`, violations: v }
  }
  // OPTIONS on a route: the OK envelope naming the route's methods, as Allow does. (On no route it is the 404
  // envelope, which in `envelope` mode is a 200 too; without Host it is refused: both checked as envelopes below.)
  const methods = routeMethods(cfg, path)
  if (c.method === 'OPTIONS' && methods !== undefined && c.host) {
    const allow = o.headers.get('allow')?.[0]
    if (o.status !== 200 || allow !== methods.join(', ') || text !== JSON.stringify({ data: { allow: methods }, status: { code: 'OK', description: '', message: '' } })) {
      v.push(`OPTIONS on a route: HTTP ${o.status}, Allow ${JSON.stringify(allow)}, ${JSON.stringify(text.slice(0, 160))}`)
    }
    return { label: 'app OPTIONS 200', violations: v }
  }
  // (An encoded spelling such as /%6Detrics is no route: its 404 envelope is a 200 in `envelope` mode, checked below.)
  if (c.method === 'GET' && o.status === 200 && NON_ENVELOPE_GET(cfg).includes(path) && !/^\{"data":/.test(text)) {
    const type = o.headers.get('content-type')?.[0] ?? ''
    if (path === '/metrics') {
      if (!type.startsWith('text/plain') || !text.includes('consumer_auth_tokens_issued_total')) v.push('/metrics is not the Prometheus text')
    } else {
      try {
        const doc = JSON.parse(text) as Record<string, unknown>
        if (path === '/openapi.json' && typeof doc['openapi'] !== 'string') v.push('/openapi.json is not an OpenAPI document')
        if (path === '/.well-known/jwks.json' && !Array.isArray(doc['keys'])) v.push('/.well-known/jwks.json is not a JWKS')
      } catch {
        v.push(`${path} is not JSON`)
      }
    }
    return { label: `app GET ${path}`, violations: v }
  }

  // The envelope.
  const type = o.headers.get('content-type')?.[0] ?? ''
  if (!/^application\/json/i.test(type)) v.push(`Content-Type ${JSON.stringify(type)}`)
  let env: any
  try {
    env = JSON.parse(text)
  } catch {
    v.push(`not JSON: ${JSON.stringify(text.slice(0, 120))}`)
    return { label: `app ${o.status} not-json`, violations: v }
  }
  const shapeOk = isPlainObject(env) && Object.keys(env).sort().join() === 'data,status' && isPlainObject(env.status) &&
    Object.keys(env.status).sort().join() === 'code,description,message' &&
    typeof env.status.code === 'string' && typeof env.status.description === 'string' && typeof env.status.message === 'string'
  if (!shapeOk) {
    v.push(`not an envelope: ${JSON.stringify(text.slice(0, 160))}`)
    return { label: `app ${o.status} not-envelope`, violations: v }
  }
  const code: string = env.status.code
  if (code !== 'OK') {
    const name = codeToName.get(code)
    if (name === undefined) {
      v.push(`an uncatalogued code ${JSON.stringify(code)}`)
      return { label: `app ${o.status} ${code}`, violations: v }
    }
    if (env.data !== null) v.push('a failure with data')
    if (env.status.description !== name) v.push(`description ${JSON.stringify(env.status.description)} for ${name}`)
    // /health/ready answers its real status in every mode (load balancers read the status, not the envelope).
    const readiness = path === '/health/ready' && name === 'SERVICEUNAVAILABLE'
    // An HTTP/1.1 request without Host is a protocol refusal (400 in every mode), though the app writes it.
    const noHost = !c.host && name === 'MALFORMEDREQUEST'
    const want = cfg.httpStatus === 'envelope' && !readiness && !noHost ? 200 : httpStatusOf(name)
    if (o.status !== want) v.push(`HTTP ${o.status} for ${name} (want ${want})`)
    if (name === 'INTERNALERROR' || name === 'SERVICEUNAVAILABLE') v.push(`${name}: ${env.status.message}`)
    if (name === 'INVALIDAPPLICATIONKEY' && !o.headers.has('www-authenticate')) v.push('INVALIDAPPLICATIONKEY without WWW-Authenticate')
    if (name === 'TOOMANYATTEMPTS') v.push('a lock-out although the thresholds are out of reach')
    return { label: `app ${o.status} ${name}`, violations: v }
  }

  // Success.
  if (o.status !== 200) v.push(`OK with HTTP ${o.status}`)
  if (env.status.description !== '' || env.status.message !== '') v.push('OK with a description or message')
  const data = env.data
  if (isPlainObject(data) && typeof data['token'] === 'string') {
    const token = data['token']
    const expected = expectedGrant(cfg, ctx.identity, c, false)
    if (expected === undefined) {
      v.push('a TOKEN for a request without valid credentials')
      return { label: 'app 200 TOKEN', violations: v, token }
    }
    let claims: Record<string, unknown> = {}
    try {
      claims = decodeJwtPart(token, 1) as Record<string, unknown>
    } catch {
      v.push('the token payload is not JSON')
    }
    const g = expected.grant
    const want = { org: g.org, cii: g.cii, ari: g.ari, usr: g.usr, oun: expected.unit }
    for (const [k, x] of Object.entries(want)) if (claims[k] !== x) v.push(`claim ${k} = ${JSON.stringify(claims[k])}, want ${JSON.stringify(x)}`)
    if (Number(claims['exp']) - Number(claims['iat']) !== 7200) v.push('exp - iat is not 7200')
    if (typeof claims['jti'] !== 'string' || !/^[0-9A-F]{32}$/.test(claims['jti'])) v.push('jti is not 32 upper-case hex')
    else if (ctx.issued.has(claims['jti'])) v.push('a session id issued twice')
    else ctx.issued.set(claims['jti'], want)
    return { label: 'app 200 TOKEN', violations: v, token }
  }
  if (isPlainObject(data) && isPlainObject(data['session'])) {
    const s = data['session']
    const was = ctx.issued.get(String(s['sessionId']))
    if (path !== cfg.basePath + SESSION_PATH) v.push('a session outside the session route')
    if (was === undefined) v.push(`a session for an id never issued: ${JSON.stringify(s).slice(0, 200)}`)
    else if (s['organisation'] !== was.org || s['contactInformationId'] !== was.cii || s['accountsReceivableId'] !== was.ari || s['unit'] !== was.oun) {
      v.push(`a session whose claims differ from the token issued: ${JSON.stringify(s).slice(0, 200)}`)
    }
    return { label: 'app 200 SESSION', violations: v }
  }
  const health = path === '/health/live' ? 'live' : path === '/health/ready' ? 'ready' : undefined
  if (health === undefined || !isPlainObject(data) || data['status'] !== health) v.push(`an unexpected OK: ${text.slice(0, 160)}`)
  return { label: `app 200 ${health ?? '?'}`, violations: v }
}
