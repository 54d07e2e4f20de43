/**
 * @module test/fuzz/arbitraries
 * The requests the HTTP fuzz suite sends, as fast-check arbitraries. Three arms:
 *
 * - `valid`: exactly one of the credential combinations that must be answered 200 with a token (canonical framing,
 *   keys in any order, optional nulls, optional unit), so that the suite checks valid credentials keep working under
 *   the hostile load around them;
 * - `structured`: a canonical POST to the token route whose credentials come from pools mixing valid and invalid
 *   values (revoked/systemic/unknown/other-organisation keys, suspended/cancelled/expired/future codes, wrong pass
 *   codes, units the user lacks, invalid identity JWTs): the oracle knows exactly which of these must succeed;
 * - `hostile`: every part drawn independently: methods (all of node:http's, lower case, made up, junk), targets (the
 *   real routes with and without the base path, case and slash variants, encoded junk, traversal, very long,
 *   absolute-form, raw bytes), header sets (Authorization with random schemes, bad base64, invalid UTF-8, control
 *   characters raw and encoded, huge values, several Authorization headers; content types; X-Forwarded-For,
 *   X-Request-Id, Expect, ...), bodies (random bytes, invalid UTF-8, deep nesting, huge numbers, duplicate keys,
 *   `__proto__` / `constructor` / `prototype` at the top level and inside access_token_identifier, very long strings,
 *   arrays where objects belong, oversized bodies) and framing (Content-Length, chunked, both).
 *
 * Strings here are byte strings (raw-client.ts): text meant as UTF-8 goes through `utf8Bytes`.
 */
import { METHODS } from 'node:http'
import fc from 'fast-check'
import { SESSION_PATH, TOKEN_PATH } from '../../adapters/http/index.js'
import { CANCELLED_CODE, EXPIRED_CODE, FUTURE_CODE, OTHER_CODE, OTHER_KEY, REVOKED_KEY, SUSPENDED_CODE, SYSTEMIC_KEY, type FuzzServiceConfig, type IdentityTokens } from './fixture.js'
import type { WireRequest } from './raw-client.js'
import { EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE } from '../support/example.js'
import { decodeJwtPart } from '../support/jwt.js'

type Arm = 'valid' | 'structured' | 'hostile'

export interface FuzzCase extends WireRequest {
  readonly arm: Arm
}

/** A JSON text built by hand, so that it can hold what JSON.stringify never writes: duplicate keys, `__proto__` as a key, huge numbers. */
type J =
  | { readonly t: 'raw'; readonly s: string }
  | { readonly t: 'obj'; readonly e: ReadonlyArray<readonly [string, J]> }
  | { readonly t: 'arr'; readonly a: ReadonlyArray<J> }

const lit = (v: unknown): J => ({ t: 'raw', s: JSON.stringify(v) })
const raw = (s: string): J => ({ t: 'raw', s })
const obj = (...e: ReadonlyArray<readonly [string, J]>): J => ({ t: 'obj', e })

const render = (j: J, pretty = false): string => {
  const sep = pretty ? ', ' : ','
  const colon = pretty ? ': ' : ':'
  if (j.t === 'raw') return j.s
  if (j.t === 'arr') return `[${j.a.map((x) => render(x, pretty)).join(sep)}]`
  return `{${j.e.map(([k, v]) => JSON.stringify(k) + colon + render(v, pretty)).join(sep)}}`
}

const utf8Bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')
const bytesOf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))
const b64 = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64')

const ABSENT = Symbol('absent')
type Slot = J | typeof ABSENT

/** An object from slots (absent ones left out), its members in an order fast-check chooses. */
const objectOf = (slots: ReadonlyArray<readonly [string, Slot]>): fc.Arbitrary<J> => {
  const present = slots.filter((s): s is readonly [string, J] => s[1] !== ABSENT)
  return fc.shuffledSubarray(present, { minLength: present.length, maxLength: present.length }).map((e) => obj(...e))
}

// ---------------------------------------------------------------------------------------------------------------
// Values

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 24 })
const anyText = fc.string({ unit: 'grapheme', maxLength: 24 })
const hex32 = fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'), minLength: 32, maxLength: 32 })

/** A wrong value for a string parameter: blank, too long, not a string. */
const badValue: fc.Arbitrary<J> = fc.oneof(
  fc.constantFrom('', ' ', '\t\n', '\u00a0', '\u2028').map(lit),
  fc.constantFrom(513, 600, 4000).map((n) => lit('x'.repeat(n))),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([EXAMPLE_CODE]), fc.constant({ a: 1 })).map(lit),
  anyText.filter((s) => s.trim() !== '').map(lit),
)

/** A parameter slot: mostly one of `values`, sometimes absent, null or a wrong value. */
const slot = (values: fc.Arbitrary<string>, weights = { value: 8, absent: 2, nul: 1, bad: 1 }): fc.Arbitrary<Slot> =>
  fc.oneof(
    { weight: weights.value, arbitrary: values.map(lit) },
    { weight: weights.absent, arbitrary: fc.constant<Slot>(ABSENT) },
    { weight: weights.nul, arbitrary: fc.constant<Slot>(lit(null)) },
    { weight: weights.bad, arbitrary: badValue },
  )

const codes = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(EXAMPLE_CODE, OTHER_CODE) },
  { weight: 3, arbitrary: fc.constantFrom(SUSPENDED_CODE, CANCELLED_CODE, EXPIRED_CODE, FUTURE_CODE, EXAMPLE_CODE.toUpperCase(), `${EXAMPLE_CODE} `, ` ${EXAMPLE_CODE}`, EXAMPLE_CODE.slice(0, -1)) },
  { weight: 1, arbitrary: printable.filter((s) => s.trim() !== '') },
)
const identifiers = fc.oneof(
  { weight: 4, arbitrary: fc.constant(EXAMPLE_IDENTIFIER) },
  { weight: 1, arbitrary: fc.constantFrom('Maria', 'maria ', 'mari', 'nobody') },
)
const passCodes = fc.oneof({ weight: 3, arbitrary: fc.constant(EXAMPLE_PASS_CODE) }, { weight: 1, arbitrary: fc.constantFrom('4712', '04711', '4711 ', '0000') })
const units = fc.constantFrom('1', '1', '2', 'A', 'B', '01', 'unknown-unit')
const organisations = fc.constantFrom('ps_dev', 'ps_dev', 'other_org', 'PS_DEV', 'nope')

/** Keys as the Authorization header carries them: the pool, in canonical encodings. */
const poolKeys = fc.constantFrom(EXAMPLE_KEY, EXAMPLE_KEY, EXAMPLE_KEY, OTHER_KEY, REVOKED_KEY, SYSTEMIC_KEY, EXAMPLE_KEY.toLowerCase(), `${EXAMPLE_KEY}0`)
const canonicalBasic = (key: string, colon: boolean, scheme = 'Basic') => `${scheme} ${b64(colon ? `${key}:` : key)}`

type KeyChoice = { readonly kind: 'absent' } | { readonly kind: 'header'; readonly value: string }

/** The key for the structured arm: absent, a pool key canonically encoded, or a clearly malformed header. */
const structuredKey: fc.Arbitrary<KeyChoice> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<KeyChoice>({ kind: 'absent' }) },
  {
    weight: 6,
    arbitrary: fc.tuple(fc.oneof(poolKeys, hex32), fc.boolean(), fc.constantFrom('Basic', 'basic', 'BASIC')).map(([k, c, s]): KeyChoice => ({ kind: 'header', value: canonicalBasic(k, c, s) })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<KeyChoice>(
      { kind: 'header', value: `Basic ${b64(`${EXAMPLE_KEY}:secret`)}` },
      { kind: 'header', value: `Bearer ${EXAMPLE_KEY}` },
      { kind: 'header', value: 'Basic ***' },
      { kind: 'header', value: `Basic ${b64(`${EXAMPLE_KEY}\u0001:`)}` },
    ),
  },
)

/** The body of a structured request: a credential shape, then each member from its pool. */
const structuredBody = (cfg: FuzzServiceConfig, identity: IdentityTokens): fc.Arbitrary<J> => {
  const jwts = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...identity.valid) },
    { weight: 2, arbitrary: fc.constantFrom(...identity.invalid) },
    { weight: 1, arbitrary: fc.constantFrom('a.b.c', 'not-a-jwt', `${identity.valid[0]!}x`) },
  )
  const ati = (inner: ReadonlyArray<readonly [string, Slot]>) =>
    objectOf(inner).chain((o) => fc.oneof({ weight: 12, arbitrary: fc.constant(o) }, { weight: 1, arbitrary: fc.constant({ t: 'arr', a: [o] } as J) }, { weight: 1, arbitrary: badValue }))
  const code = fc.tuple(slot(codes, { value: 12, absent: 0, nul: 0, bad: 1 }), fc.option(fc.constant(lit(null)), { freq: 8 })).chain(([c, n]) =>
    ati([['authentication_code', c], ...(n ? [['identifier', n] as const] : [])]))
  const ident = fc.tuple(slot(identifiers, { value: 12, absent: 1, nul: 0, bad: 1 }), slot(passCodes, { value: 12, absent: 1, nul: 1, bad: 1 }))
    .chain(([i, p]) => ati([['identifier', i], ['pass_code', p]]))
  const both = fc.tuple(codes, identifiers, passCodes).chain(([c, i, p]) => ati([['authentication_code', lit(c)], ['identifier', lit(i)], ['pass_code', lit(p)]]))
  const unit = slot(units, { value: 3, absent: 6, nul: 1, bad: 1 })
  const org = slot(organisations, { value: 1, absent: 10, nul: 1, bad: 0 })
  const extra = fc.oneof(
    { weight: 12, arbitrary: fc.constant<ReadonlyArray<readonly [string, J]>>([]) },
    { weight: 1, arbitrary: fc.constantFrom('organization', 'key', 'token', 'units', '__proto__', 'constructor', 'prototype').map((k) => [[k, lit('x')] as const]) },
  )
  const withRest = (first: ReadonlyArray<readonly [string, Slot]>) =>
    fc.tuple(unit, org, extra).chain(([u, o, x]) => objectOf([...first, ['unit', u], ['organisation', o], ...x]))
  const jwtShape = fc.tuple(jwts, slot(organisations, { value: 12, absent: 1, nul: 1, bad: 1 }), fc.option(fc.constant(lit(null)), { freq: 6 }), slot(units, { value: 1, absent: 12, nul: 1, bad: 0 }))
    .chain(([j, o, ati, u]) => objectOf([['jwt', lit(j)], ['organisation', o], ['access_token_identifier', ati ?? ABSENT], ['unit', u]]))
  return fc.oneof(
    { weight: 8, arbitrary: code.chain((a) => withRest([['access_token_identifier', a]])) },
    // Identifier mode with a valid key costs a scrypt verification (~90 ms on the thread pool): kept rare.
    { weight: 1, arbitrary: ident.chain((a) => withRest([['access_token_identifier', a]])) },
    { weight: cfg.release === 'R16.2.0' ? 3 : 1, arbitrary: jwtShape },
    { weight: 1, arbitrary: both.chain((a) => withRest([['access_token_identifier', a]])) },
    { weight: 1, arbitrary: fc.tuple(jwts, code).chain(([j, a]) => objectOf([['jwt', lit(j)], ['organisation', lit('ps_dev')], ['access_token_identifier', a]])) },
    { weight: 1, arbitrary: withRest([]) },
  )
}

/** One of the credential combinations that must be answered 200, with optional nulls and unit. */
const validRequestParts = (cfg: FuzzServiceConfig, identity: IdentityTokens): fc.Arbitrary<{ key: KeyChoice; body: J }> => {
  const nul = (name: string) => fc.option(fc.constant([name, lit(null)] as const), { freq: 3 }).map((x) => (x ? [x] : []))
  const key = (k: string) => fc.tuple(fc.boolean(), fc.constantFrom('Basic', 'basic')).map(([c, s]): KeyChoice => ({ kind: 'header', value: canonicalBasic(k, c, s) }))
  const unitFor = (units: ReadonlyArray<string>) => fc.oneof(fc.constant<Slot>(ABSENT), fc.constant<Slot>(lit(null)), fc.constantFrom(...units).map(lit))
  const codeBody = (code: string, units: ReadonlyArray<string>) =>
    fc.tuple(nul('identifier'), nul('pass_code'), unitFor(units), nul('jwt'), nul('organisation')).chain(([i, p, u, j, o]) =>
      objectOf([['authentication_code', lit(code)], ...i, ...p]).chain((a) => objectOf([['access_token_identifier', a], ['unit', u], ...j, ...o])))
  const combos: Array<fc.Arbitrary<{ key: KeyChoice; body: J }>> = [
    fc.tuple(key(EXAMPLE_KEY), codeBody(EXAMPLE_CODE, ['1'])).map(([k, body]) => ({ key: k, body })),
    fc.tuple(key(OTHER_KEY), codeBody(OTHER_CODE, ['A', 'B'])).map(([k, body]) => ({ key: k, body })),
  ]
  if (cfg.release === 'R16.2.0') {
    combos.push(codeBody(EXAMPLE_CODE, ['1']).map((body) => ({ key: { kind: 'absent' }, body })))
    combos.push(codeBody(OTHER_CODE, ['A', 'B']).map((body) => ({ key: { kind: 'absent' }, body })))
    combos.push(
      fc.tuple(fc.constantFrom(...identity.valid), nul('access_token_identifier'), nul('unit'))
        .chain(([j, a, u]) => objectOf([['jwt', lit(j)], ['organisation', lit('ps_dev')], ...a, ...u]))
        .map((body) => ({ key: { kind: 'absent' }, body })),
    )
  }
  const passCode = fc.tuple(key(EXAMPLE_KEY), fc.oneof(fc.constant<Slot>(ABSENT), fc.constantFrom('1').map(lit)))
    .chain(([k, u]) => objectOf([['identifier', lit(EXAMPLE_IDENTIFIER)], ['pass_code', lit(EXAMPLE_PASS_CODE)]]).chain((a) => objectOf([['access_token_identifier', a], ['unit', u]])).map((body) => ({ key: k, body })))
  return fc.oneof(...combos.map((arbitrary) => ({ weight: 6, arbitrary })), { weight: 1, arbitrary: passCode })
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile parts

const methods = fc.oneof(
  { weight: 24, arbitrary: fc.constant('POST') },
  { weight: 6, arbitrary: fc.constant('GET') },
  { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
  { weight: 1, arbitrary: fc.constantFrom('post', 'Post', 'pOST', 'get') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('PO ST', 'POST/1', '', 'P\u0000ST', 'GET\t', '\u00c9T', 'POST\r\nX: y') },
)

const percentJunk = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`),
    fc.constantFrom('%', '%G1', '%E0%A4', '%C0%AF', '%ED%A0%80', '%00', '%2F', '%252F', '%u0041', '..', '.', '//', ';', '~'),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/'), maxLength: 6 }),
  ),
  { maxLength: 8 },
).map((parts) => parts.join(''))

const mutatePath = (p: string) =>
  fc.oneof(
    fc.constant(p.toUpperCase()),
    fc.constant(`${p}/`),
    fc.constant(p.replace('/authentication', '//authentication')),
    fc.constant(p.replace('/authentication', '/x/../authentication')),
    fc.constant(p.replace('/authentication', '/./authentication')),
    fc.constant(`${p};jsessionid=1`),
    fc.constant(`${p}%00`),
    fc.constant(`${p}#frag`),
    fc.constant(p.replace(/\//g, '%2F')),
    fc.nat({ max: Math.max(0, p.length - 1) }).map((i) => `${p.slice(0, i)}%${p.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0')}${p.slice(i + 1)}`),
    fc.nat({ max: p.length }).chain((i) => percentJunk.map((j) => p.slice(0, i) + j + p.slice(i))),
    percentJunk.map((q) => `${p}?${q}`),
  )

const targets = (cfg: FuzzServiceConfig, tokens: fc.Arbitrary<string>) => {
  const token = cfg.basePath + TOKEN_PATH
  const session = cfg.basePath + SESSION_PATH
  const real = [token, session, TOKEN_PATH, SESSION_PATH, '/health/live', '/health/ready', '/metrics', '/openapi.json', '/.well-known/jwks.json', '/', '*']
  if (cfg.basePath !== '') real.push(cfg.basePath, `${cfg.basePath}/`, `/crmapi/rest/v2${TOKEN_PATH}`)
  else real.push(`/crmapi/rest/v2${TOKEN_PATH}`)
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(token) },
    { weight: 3, arbitrary: tokens.map((t) => `${session}?token=${t}`) },
    { weight: 1, arbitrary: fc.constantFrom(`${session}?token=a&token=b`, `${session}?token[a]=1`, `${session}?token=`, `${session}?token=${'a'.repeat(10_000)}`) },
    { weight: 5, arbitrary: fc.constantFrom(...real) },
    { weight: 5, arbitrary: fc.constantFrom(token, session, '/metrics', '/health/live').chain(mutatePath) },
    { weight: 3, arbitrary: percentJunk.map((j) => `/${j}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => `${token}/${'a'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => `${token}?q=${'%41'.repeat(n / 3)}`) },
    { weight: 1, arbitrary: fc.constantFrom(`http://127.0.0.1${token}`, `http://evil.example${token}`, `https://127.0.0.1${session}`, '//127.0.0.1/metrics') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `/${utf8Bytes(s)}`) },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 30 }).map((s) => `/${s}`) },
  )
}

/** Tokens made from an issued one: unsigned, signature cut, claims changed under the old signature, ... */
const forgeries = (t: string): string[] => {
  const [h = '', p = '', s = ''] = t.split('.')
  let claims: Record<string, unknown> = {}
  try {
    claims = decodeJwtPart(t, 1) as Record<string, unknown>
  } catch {
    // not a JWT: the forgeries below are junk then, which is fine
  }
  const forged = Buffer.from(JSON.stringify({ ...claims, org: 'other_org', cii: 'C0000000000000000000000000000002' })).toString('base64url')
  return [
    `${Buffer.from('{"typ":"JWT","alg":"none"}').toString('base64url')}.${p}.`,
    `${h}.${p}.`,
    `${h}.${p}`,
    `${h}.${forged}.${s}`,
    `${t}.${s}`,
    t.toLowerCase(),
    `${h}.${p}.${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`,
  ]
}

/** Session tokens and their mutations (for the session route and Bearer headers). */
const sessionTokens = (issued: ReadonlyArray<string>): fc.Arbitrary<string> => {
  const base = fc.constantFrom(...issued)
  const flip = (t: string, i: number) => {
    const c = t[i]!
    const swapped = c === 'A' ? 'B' : c === '.' ? '.' : 'A'
    return t.slice(0, i) + swapped + t.slice(i + 1)
  }
  return fc.oneof(
    { weight: 3, arbitrary: base },
    { weight: 2, arbitrary: fc.tuple(base, fc.nat()).map(([t, n]) => flip(t, n % t.length)) },
    { weight: 2, arbitrary: fc.constantFrom(...issued.flatMap(forgeries)) },
    { weight: 1, arbitrary: fc.constantFrom('', 'a.b.c', 'null', '%00', 'x'.repeat(9000)) },
  )
}

/** Authorization values: canonical keys, other schemes, bad base64, invalid UTF-8, control characters, huge ones. */
const authorizationValue = (tokens: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.tuple(poolKeys, fc.boolean(), fc.constantFrom('Basic', 'basic', 'BASIC', 'bAsIc')).map(([k, c, s]) => canonicalBasic(k, c, s)) },
    { weight: 1, arbitrary: poolKeys.map((k) => `Basic  ${b64(`${k}:`)}  `) },
    { weight: 1, arbitrary: poolKeys.map((k) => `Basic\t${b64(`${k}:`)}`) },
    { weight: 2, arbitrary: fc.tuple(poolKeys, printable).map(([k, pw]) => `Basic ${b64(`${k}:${pw}`)}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Bearer', 'Digest', 'Negotiate', 'Token', 'NTLM', 'Basic:', 'Basicx', 'B'), printable).map(([s, v]) => `${s} ${v}`) },
    { weight: 2, arbitrary: tokens.map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.constantFrom('', 'Basic', 'Basic ', 'Basic ***', 'Basic ====', 'Basic YWJj=', 'Basic YW Jj', 'Basic YWI', 'Basic _-_-', `Basic ${b64(`${EXAMPLE_KEY}:`).replace(/=+$/, '')}`) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='), maxLength: 60 }).map((s) => `Basic ${s}`) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`) },
    { weight: 1, arbitrary: fc.constantFrom(`${EXAMPLE_KEY}\u0000:`, '\u007f:', `\u001b[31m${EXAMPLE_KEY}:`, `${EXAMPLE_KEY}\n:`, '\u0000').map((s) => `Basic ${b64(s)}`) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0x3a]), Buffer.from([0xc0, 0xaf, 0x3a]), Buffer.from([0xed, 0xa0, 0x80, 0x3a])).map((b) => `Basic ${b64(b)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1500, max: 20_000 }).map((n) => `Basic ${'QUFB'.repeat(Math.ceil(n / 4))}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('\u0000', '\u0001', '\u007f', '\u001f', '\u0085', '\u00ff', '\u00e9', '\t', '\r', '\n '), poolKeys).map(([c, k]) => `Basic ${c}${b64(`${k}:`)}`) },
    { weight: 1, arbitrary: fc.constant(utf8Bytes(`Basic ${b64(`${EXAMPLE_KEY}:`)}é€`)) },
  )

const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json; charset="utf-8"', 'Application/JSON', '  application/json  ') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; boundary=x', 'application/jsonx', 'application/json5',
      'text/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', '', '*/*', 'application/json, text/plain',
      'application/*', 'application/json;', 'application/json; charset=utf-8; charset=latin1', 'application/json\u0000', 'application/json\u00e9',
    ),
  },
  { weight: 1, arbitrary: printable },
)

/** Other headers: mostly ones the app reads or ignores; a few that Node's parser refuses (counted as Node-level 400s). */
const extraHeaders: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('127.0.0.1', '10.0.0.1, 127.0.0.1', 'unknown', '::1', '1.1.1.1'.repeat(200), 'x\u00ff').map((v) => ['X-Forwarded-For', v] as const) },
    { weight: 3, arbitrary: fc.constantFrom('req-1', 'a'.repeat(200), '../../etc', 'x y', '{"a":1}', '\u00e9').map((v) => ['X-Request-Id', v] as const) },
    { weight: 2, arbitrary: fc.constantFrom('*/*', 'application/json', 'text/html', '').map((v) => ['Accept', v] as const) },
    { weight: 2, arbitrary: fc.constantFrom('gzip', 'br', 'identity', 'x').map((v) => ['Content-Encoding', v] as const) },
    { weight: 2, arbitrary: fc.constantFrom('a=b', '__proto__=x', 'token=abc').map((v) => ['Cookie', v] as const) },
    { weight: 1, arbitrary: fc.constant(['Expect', '100-continue'] as const) },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom(...'abcdefXYZ-_0123456789!#$%&\'*+.^`|~'), minLength: 1, maxLength: 16 }), printable).map(([n, v]) => [n, v] as const),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<readonly [string, string]>(
        ['Expect', 'junk'], ['Content-Length', '-1'], ['Content-Length', 'abc'], ['Transfer-Encoding', 'gzip, chunked'], ['Transfer-Encoding', 'identity'],
        ['Bad Name', 'x'], ['X-Ctl', 'a\u0000b'], ['', 'x'], ['X-Obs', '\u00ff\u00fe'], [':x', 'y'],
      ),
    },
  ),
  { maxLength: 3 },
)

/** Deep nesting, within the 16 KiB bound or past it. */
const deep: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 50, max: 8000 }), fc.integer({ min: 0, max: 3 }), fc.boolean()).map(([n, kind, balanced]) => {
  const close = balanced ? n : Math.max(0, n - 3)
  if (kind === 0) return '['.repeat(n) + ']'.repeat(close)
  if (kind === 1) return `{"access_token_identifier":${'{"a":'.repeat(n)}1${'}'.repeat(close)}}`
  if (kind === 2) return `{"unit":${'['.repeat(n)}${']'.repeat(close)}}`
  return `{"access_token_identifier":{"authentication_code":${'['.repeat(n)}"${EXAMPLE_CODE}"${']'.repeat(close)}}}`
})

const hugeNumbers = fc.constantFrom('1e999999', '-1e400', '9'.repeat(5000), `0.${'0'.repeat(5000)}1`, '1e-99999', '-0', '123456789012345678901234567890', '1E+308', '0x10', '01', '.5', '+1', 'NaN', 'Infinity')

/** `__proto__`, `constructor`, `prototype` (and other Object.prototype names), at the top level and inside access_token_identifier. */
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf']
const pollutionValue = fc.constantFrom<J>(
  raw('{"polluted":"yes","fuzzPolluted":1}'),
  raw('{"prototype":{"polluted":"yes"}}'),
  raw('{"__proto__":{"polluted":"yes"}}'),
  raw('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  lit(null),
  lit('x'),
  lit(1),
  raw('[]'),
)
const pollution = (valid: fc.Arbitrary<J>): fc.Arbitrary<J> =>
  fc.tuple(valid, fc.constantFrom(...POLLUTION_KEYS), pollutionValue, fc.constantFrom('top', 'inner', 'unit', 'only')).map(([v, k, pv, where]) => {
    if (v.t !== 'obj') return v
    if (where === 'only') return obj([k, pv])
    if (where === 'top') return obj(...v.e, [k, pv])
    if (where === 'unit') return obj(...v.e, ['unit', obj([k, pv])])
    return obj(...v.e.map(([name, val]): readonly [string, J] => (name === 'access_token_identifier' && val.t === 'obj' ? [name, obj(...val.e, [k, pv])] : [name, val])))
  })

/** Duplicate members: a valid body with one member repeated, before or after, with another value. */
const duplicates = (valid: fc.Arbitrary<J>, other: fc.Arbitrary<J>): fc.Arbitrary<J> =>
  fc.tuple(valid, other, fc.boolean(), fc.nat(), fc.boolean()).map(([v, o, before, i, inner]) => {
    if (v.t !== 'obj' || v.e.length === 0) return v
    const [name, value] = v.e[i % v.e.length]!
    if (inner && value.t === 'obj' && value.e.length > 0) {
      const [n2] = value.e[i % value.e.length]!
      const innerDup = obj(...(before ? [[n2, o] as const, ...value.e] : [...value.e, [n2, o] as const]))
      return obj(...v.e.map(([n, x]): readonly [string, J] => (n === name ? [n, innerDup] : [n, x])))
    }
    return obj(...(before ? [[name, o] as const, ...v.e] : [...v.e, [name, o] as const]))
  })

const longStrings = fc.tuple(
  fc.constantFrom('unit', 'jwt', 'organisation', 'authentication_code', 'identifier', 'pass_code'),
  fc.constantFrom(511, 512, 513, 1000, 8191, 8192, 8193, 15_000, 17_000),
  fc.constantFrom('x', 'é', '😀', ' '),
).map(([name, n, c]) => {
  const s = c.repeat(Math.ceil(n / c.length)).slice(0, n)
  return ['authentication_code', 'identifier', 'pass_code'].includes(name)
    ? obj(['access_token_identifier', obj([name, lit(s)])])
    : obj([name, lit(s)], ['access_token_identifier', obj(['authentication_code', lit(EXAMPLE_CODE)])])
})

const invalidUtf8 = fc.tuple(
  fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]),
  fc.constantFrom('unit', 'authentication_code'),
).map(([bad, name]) => {
  const before = name === 'unit' ? '{"access_token_identifier":{"authentication_code":"p_kestora1!"},"unit":"' : '{"access_token_identifier":{"authentication_code":"p_kestora'
  const after = name === 'unit' ? '"}' : '"}}'
  return Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)])
})

/** A hostile body, as bytes. */
const hostileBody = (valid: fc.Arbitrary<J>, structured: fc.Arbitrary<J>): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.tuple(structured, fc.boolean()).map(([j, p]) => bytesOf(render(j, p))) },
    { weight: 6, arbitrary: fc.tuple(valid, fc.boolean()).map(([j, p]) => bytesOf(render(j, p))) },
    { weight: 4, arbitrary: pollution(fc.oneof(valid, structured)).map((j) => bytesOf(render(j))) },
    { weight: 3, arbitrary: duplicates(fc.oneof(valid, structured), fc.oneof(structured, badValue, fc.constant(lit(null)))).map((j) => bytesOf(render(j))) },
    { weight: 2, arbitrary: deep.map(bytesOf) },
    {
      weight: 2,
      arbitrary: fc.tuple(hugeNumbers, fc.constantFrom('unit', 'jwt', 'body', 'code', 'ati')).map(([n, where]) =>
        bytesOf(where === 'body' ? n : where === 'code' ? `{"access_token_identifier":{"authentication_code":${n}}}` : where === 'ati' ? `{"access_token_identifier":${n}}` : `{"${where}":${n}}`)),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(valid, structured).map((j) => {
        const inner = j.t === 'obj' ? j.e.find(([n]) => n === 'access_token_identifier')?.[1] : undefined
        return bytesOf(render(inner ? obj(['access_token_identifier', { t: 'arr', a: [inner] }]) : { t: 'arr', a: [j] }))
      }),
    },
    { weight: 2, arbitrary: longStrings.map((j) => bytesOf(render(j))) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 3000 }) },
    { weight: 2, arbitrary: invalidUtf8.map((b) => new Uint8Array(b)) },
    { weight: 1, arbitrary: fc.constantFrom('{"unit":"\\ud800","access_token_identifier":{"authentication_code":"\\udfff"}}', '{"access_token_identifier":{"authentication_code":"p_kestora1\\u0021"}}').map(bytesOf) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map(bytesOf) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map(bytesOf) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\r\n', 'null', 'true', '"str"', '{}', '[]', '0', '{"a"}', '{,}', "{'unit':'1'}", '{"unit":NaN}', '{"unit":"1"} x', '\ufeff{}', '{"unit":"1",}', '/*c*/{}').map(bytesOf) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 16_380, max: 40_000 }).map((n) => {
        const head = '{"access_token_identifier":{"authentication_code":"p_kestora1!"},"unit":"'
        return bytesOf(head + 'x'.repeat(Math.max(0, n - head.length - 2)) + '"}')
      }),
    },
  )

// ---------------------------------------------------------------------------------------------------------------
// Cases

const keyHeaders = (k: KeyChoice): ReadonlyArray<readonly [string, string]> => (k.kind === 'absent' ? [] : [['Authorization', k.value]])
const canonicalContentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON;charset="UTF-8"')
const canonicalFraming = fc.constantFrom<WireRequest['framing']>('length', 'length', 'length', 'chunked')

export const fuzzCases = (cfg: FuzzServiceConfig, identity: IdentityTokens, issuedTokens: ReadonlyArray<string>): fc.Arbitrary<FuzzCase> => {
  const token = cfg.basePath + TOKEN_PATH
  const tokens = sessionTokens(issuedTokens)
  const valid = validRequestParts(cfg, identity)
  const structured = structuredBody(cfg, identity)

  const validCase = fc.tuple(valid, canonicalContentType, canonicalFraming, fc.boolean()).map(([{ key, body }, ct, framing, pretty]): FuzzCase => ({
    arm: 'valid', method: 'POST', target: token, host: true, framing,
    headers: [['Content-Type', ct], ...keyHeaders(key)], body: bytesOf(render(body, pretty)),
  }))
  const structuredCase = fc.tuple(structuredKey, structured, canonicalContentType, canonicalFraming).map(([key, body, ct, framing]): FuzzCase => ({
    arm: 'structured', method: 'POST', target: token, host: true, framing,
    headers: [['Content-Type', ct], ...keyHeaders(key)], body: bytesOf(render(body)),
  }))
  const authorizations: fc.Arbitrary<ReadonlyArray<string>> = fc.oneof(
    { weight: 5, arbitrary: fc.constant<ReadonlyArray<string>>([]) },
    { weight: 8, arbitrary: authorizationValue(tokens).map((v) => [v]) },
    { weight: 1, arbitrary: fc.array(authorizationValue(tokens), { minLength: 2, maxLength: 3 }) },
    // Several Authorization headers, one of them the valid key: which one counts must not be the client's choice.
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(EXAMPLE_KEY, OTHER_KEY).map((k) => canonicalBasic(k, true)), authorizationValue(tokens), fc.boolean()).map(([good, other, first]) => (first ? [good, other] : [other, good])),
    },
  )
  const contentTypeHeaders: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc.oneof(
    { weight: 12, arbitrary: contentTypes.map((v) => [['Content-Type', v] as const]) },
    { weight: 2, arbitrary: fc.constant([] as ReadonlyArray<readonly [string, string]>) },
    { weight: 1, arbitrary: fc.tuple(contentTypes, contentTypes).map(([a, b]) => [['Content-Type', a] as const, ['content-type', b] as const]) },
  )
  const validBody = valid.map((v) => v.body)
  const hostileCase = fc
    .record({
      method: methods,
      target: targets(cfg, tokens),
      auth: authorizations,
      authName: fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION'),
      contentType: contentTypeHeaders,
      extra: extraHeaders,
      body: hostileBody(validBody, structured),
      framing: fc.oneof(
        { weight: 16, arbitrary: fc.constant<WireRequest['framing']>('length') },
        { weight: 3, arbitrary: fc.constant<WireRequest['framing']>('chunked') },
        { weight: 1, arbitrary: fc.constantFrom<WireRequest['framing']>('both', 'none') },
      ),
      noHost: fc.integer({ min: 0, max: 80 }),
      order: fc.nat(),
    })
    .map((r): FuzzCase => {
      const headers: Array<readonly [string, string]> = [...r.contentType, ...r.auth.map((v) => [r.authName, v] as const), ...r.extra]
      const at = headers.length === 0 ? 0 : r.order % (headers.length + 1)
      const rotated = [...headers.slice(at), ...headers.slice(0, at)]
      // No framing with a body would leave the body to be parsed as a second request, and a Transfer-Encoding header
      // without chunks would keep the server waiting for them: 'none' only for an empty body and no such header.
      const framing = r.framing === 'none' && (r.body.length > 0 || r.extra.some(([n]) => n === 'Transfer-Encoding')) ? 'length' : r.framing
      return { arm: 'hostile', method: r.method, target: r.target, headers: rotated, body: r.body, framing, host: r.noHost !== 0 }
    })
  return fc.oneof({ weight: 2, arbitrary: validCase }, { weight: 3, arbitrary: structuredCase }, { weight: 10, arbitrary: hostileCase })
}
