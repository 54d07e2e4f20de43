// Tests resolveCredentials (core/credentials.ts) against an ORACLE written here as a plain decision table of
// SPEC 2-3: every parameter independently absent / null / empty / blank / wrong type / too long / valid, unknown
// parameters, malformed Authorization, non-object bodies, on both sides of every release boundary. Also checks
// that error messages name their parameters, and the nearest-name suggestion for unknown parameters.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { resolveCredentials } from '../../core/credentials.js'
import type { Release } from '../../core/release.js'
import { nearestName, type KeyInput, type WireRequest } from '../../core/request.js'
import { EXAMPLE_CODE, EXAMPLE_KEY } from '../support/example.js'

// ---------------------------------------------------------------- the sample space

type Cat = 'absent' | 'null' | 'empty' | 'blank' | 'wrongType' | 'tooLong' | 'valid'
interface P {
  readonly cat: Cat
  readonly value?: unknown
}
type AtiCat = 'absent' | 'null' | 'wrongType' | 'object'
interface Ati {
  readonly cat: AtiCat
  readonly value?: unknown
  readonly code: P
  readonly identifier: P
  readonly passCode: P
  readonly unknown: ReadonlyArray<readonly [string, unknown]>
  readonly order: ReadonlyArray<number>
}
type KeyCat = 'none' | 'malformed' | 'empty' | 'blank' | 'tooLong' | 'valid'
interface K {
  readonly cat: KeyCat
  readonly input: KeyInput
}
interface Sample {
  readonly release: string
  readonly body: { readonly kind: 'object' } | { readonly kind: 'notObject'; readonly value: unknown }
  readonly jwt: P
  readonly ati: Ati
  readonly organisation: P
  readonly unit: P
  readonly unknown: ReadonlyArray<readonly [string, unknown]>
  readonly order: ReadonlyArray<number>
  readonly key: K
}

const RELEASES = ['R1.0.0', 'R14.9.9', 'R14.999.999', 'R15.0.0', 'R15.0.1', 'R16.1.0', 'R16.1.99', 'R16.2.0', 'R16.2.1', 'R17.3.1', 'R100.0.0']
const releaseOf = (s: string): Release => {
  const [major, minor, patch] = s.slice(1).split('.').map(Number)
  return { major: major!, minor: minor!, patch: patch! }
}

const ATI = 'access_token_identifier'
const KNOWN_TOP = ['jwt', ATI, 'organisation', 'unit']
const KNOWN_INNER = ['authentication_code', 'identifier', 'pass_code']
// Never a known name at their level, never integer-like (Object.keys would reorder them), never __proto__.
const UNKNOWN_TOP = ['organization', 'Organisation', 'units', 'key', 'token', 'authentication_code', 'identifier', 'pass_code', 'jwt_token', 'foo', 'accessTokenIdentifier']
const UNKNOWN_INNER = ['authenticationCode', 'passcode', 'pass', 'pin', 'unit', 'key', 'jwt', 'organisation', 'Identifier', 'code']

/** JavaScript whitespace and line terminators (what String.prototype.trim removes). */
const WS = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2003', '\u2028', '\u2029', '\u202f', '\u3000', '\ufeff']

const validString = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 12, unit: 'binary' }), fc.constantFrom('a', 'Z', '7', '!', 'é', 'ж', '€', '_'), fc.string({ maxLength: 24 }))
      .map(([a, c, b]) => a + c + b),
  },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(512), ' '.repeat(511) + 'y', EXAMPLE_CODE, ' padded ') },
)
const blankString = fc.oneof(
  { weight: 9, arbitrary: fc.array(fc.constantFrom(...WS), { minLength: 1, maxLength: 12 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.constant(' '.repeat(600)) },
)
const tooLongString = fc
  .tuple(fc.integer({ min: 513, max: 1200 }), fc.constantFrom('a', 'Zy ', 'é', ' b'))
  .map(([n, s]) => s.repeat(n).slice(0, n))
const smallJson = fc.jsonValue({ maxDepth: 1 })
const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(smallJson, { maxLength: 3 }),
  fc.constant(['abc']),
  fc.dictionary(fc.string({ maxLength: 5 }), smallJson, { maxKeys: 3 }),
  fc.constant({}),
)

const param: fc.Arbitrary<P> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<P>({ cat: 'absent' }) },
  { weight: 3, arbitrary: fc.constant<P>({ cat: 'null', value: null }) },
  { weight: 12, arbitrary: validString.map((value): P => ({ cat: 'valid', value })) },
  { weight: 1, arbitrary: fc.constant<P>({ cat: 'empty', value: '' }) },
  { weight: 1, arbitrary: blankString.map((value): P => ({ cat: 'blank', value })) },
  { weight: 1, arbitrary: notAString.map((value): P => ({ cat: 'wrongType', value })) },
  { weight: 1, arbitrary: tooLongString.map((value): P => ({ cat: 'tooLong', value })) },
)

const unknownParams = (names: string[]) =>
  fc.oneof(
    { weight: 7, arbitrary: fc.constant<ReadonlyArray<readonly [string, unknown]>>([]) },
    {
      weight: 1,
      arbitrary: fc.uniqueArray(fc.tuple(fc.constantFrom(...names), fc.oneof(smallJson, fc.constant(null))), {
        minLength: 1,
        maxLength: 3,
        selector: ([n]) => n,
      }),
    },
  )

/** Sort keys that shuffle a body's entries. */
const order = fc.array(fc.nat({ max: 1000 }), { minLength: 8, maxLength: 8 })

const notAnObject = fc.oneof(fc.string(), fc.constant(''), fc.array(smallJson, { maxLength: 3 }), fc.constant([]), fc.integer(), fc.boolean())

const ati: fc.Arbitrary<Ati> = fc
  .record({
    cat: fc.oneof(
      { weight: 3, arbitrary: fc.constant<AtiCat>('absent') },
      { weight: 1, arbitrary: fc.constant<AtiCat>('null') },
      { weight: 1, arbitrary: fc.constant<AtiCat>('wrongType') },
      { weight: 8, arbitrary: fc.constant<AtiCat>('object') },
    ),
    wrong: notAnObject,
    code: param,
    identifier: param,
    passCode: param,
    unknown: unknownParams(UNKNOWN_INNER),
    order,
  })
  .map(({ cat, wrong, ...rest }) => ({ cat, ...(cat === 'wrongType' ? { value: wrong } : cat === 'null' ? { value: null } : {}), ...rest }))

const keyInput: fc.Arbitrary<K> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<K>({ cat: 'none', input: { _tag: 'NoKey' } }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('the scheme must be Basic, not "Bearer"', 'the credentials are not valid base64', 'the credentials contain control characters')
      .map((reason): K => ({ cat: 'malformed', input: { _tag: 'MalformedAuthorization', reason } })),
  },
  { weight: 5, arbitrary: validString.map((key): K => ({ cat: 'valid', input: { _tag: 'Key', key } })) },
  { weight: 1, arbitrary: fc.constant<K>({ cat: 'empty', input: { _tag: 'Key', key: '' } }) },
  { weight: 1, arbitrary: blankString.map((key): K => ({ cat: 'blank', input: { _tag: 'Key', key } })) },
  { weight: 1, arbitrary: tooLongString.map((key): K => ({ cat: 'tooLong', input: { _tag: 'Key', key } })) },
)

const sample: fc.Arbitrary<Sample> = fc.record({
  // Releases without the method end every request at once: drawn less often.
  release: fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...RELEASES.filter((r) => releaseOf(r).major < 15)) },
    { weight: 6, arbitrary: fc.constantFrom(...RELEASES.filter((r) => releaseOf(r).major >= 15)) },
  ),
  body: fc.oneof(
    { weight: 24, arbitrary: fc.constant({ kind: 'object' as const }) },
    {
      weight: 1,
      arbitrary: fc.oneof(notAnObject, fc.constant(null), fc.constant(undefined)).map((value) => ({ kind: 'notObject' as const, value })),
    },
  ),
  jwt: param,
  ati,
  organisation: param,
  unit: param,
  unknown: unknownParams(UNKNOWN_TOP),
  order,
  key: keyInput,
})

// ---------------------------------------------------------------- building the wire request

interface Entry {
  readonly name: string
  readonly value: unknown
  readonly known: boolean
}

/** Present known parameters (null included) and unknown ones, in the order the sort keys give. */
const entries = (known: ReadonlyArray<readonly [string, P]>, unknown: ReadonlyArray<readonly [string, unknown]>, sortKeys: ReadonlyArray<number>): Entry[] =>
  [
    ...known.filter(([, p]) => p.cat !== 'absent').map(([name, p]) => ({ name, value: p.value, known: true })),
    ...unknown.map(([name, value]) => ({ name, value, known: false })),
  ]
    .map((e, i) => ({ e, w: sortKeys[i] ?? 0 }))
    .sort((a, b) => a.w - b.w)
    .map(({ e }) => e)

const innerEntries = (s: Sample): Entry[] =>
  s.ati.cat === 'object'
    ? entries([['authentication_code', s.ati.code], ['identifier', s.ati.identifier], ['pass_code', s.ati.passCode]], s.ati.unknown, s.ati.order)
    : []

const topEntries = (s: Sample): Entry[] => {
  const atiValue: P =
    s.ati.cat === 'object'
      ? { cat: 'valid', value: Object.fromEntries(innerEntries(s).map((e) => [e.name, e.value])) }
      : { cat: s.ati.cat === 'absent' ? 'absent' : 'valid', value: s.ati.value }
  return entries([['jwt', s.jwt], [ATI, atiValue], ['organisation', s.organisation], ['unit', s.unit]], s.unknown, s.order)
}

const wireOf = (s: Sample): WireRequest => ({
  body: s.body.kind === 'object' ? Object.fromEntries(topEntries(s).map((e) => [e.name, e.value])) : s.body.value,
  key: s.key.input,
})

// ---------------------------------------------------------------- the oracle: SPEC 2-3 as a decision table

type Outcome = { readonly error: string; readonly parameters: ReadonlyArray<string> } | { readonly mode: string; readonly fields: Record<string, string> }

const fail = (error: string, ...parameters: string[]): Outcome => ({ error, parameters })

const oracle = (s: Sample): Outcome => {
  const [major, minor, patch] = s.release.slice(1).split('.').map(Number) as [number, number, number]
  const atLeast = (a: number, b: number, c: number) => (major !== a ? major > a : minor !== b ? minor > b : patch >= c)
  // Release: the method itself.
  if (!atLeast(15, 0, 0)) return fail('METHODNOTAVAILABLE')
  // 3.1 the body.
  if (s.body.kind === 'notObject') return fail('MALFORMEDREQUEST')
  // 3.2 shapes of known parameters, in SPEC 1's table order; null = absent.
  const badShape = (p: P) => p.cat === 'empty' || p.cat === 'blank' || p.cat === 'wrongType' || p.cat === 'tooLong'
  // jwt has its own bound of 8192 (identity JWTs exceed 512), so the generated 513-1200 are fine for it.
  if (badShape(s.jwt) && s.jwt.cat !== 'tooLong') return fail('INVALIDPARAMETER', 'jwt')
  if (s.ati.cat === 'wrongType') return fail('INVALIDPARAMETER', ATI)
  if (s.ati.cat === 'object') {
    if (badShape(s.ati.code)) return fail('INVALIDPARAMETER', `${ATI}.authentication_code`)
    if (badShape(s.ati.identifier)) return fail('INVALIDPARAMETER', `${ATI}.identifier`)
    if (badShape(s.ati.passCode)) return fail('INVALIDPARAMETER', `${ATI}.pass_code`)
  }
  if (badShape(s.organisation)) return fail('INVALIDPARAMETER', 'organisation')
  if (badShape(s.unit)) return fail('INVALIDPARAMETER', 'unit')
  // 3.2 unknown parameters: top level in body order, then inside access_token_identifier.
  const top = topEntries(s).find((e) => !e.known)
  if (top) return fail('UNKNOWNPARAMETER', top.name)
  const inner = innerEntries(s).find((e) => !e.known)
  if (inner) return fail('UNKNOWNPARAMETER', `${ATI}.${inner.name}`)
  // 3.3 the key.
  if (s.key.cat === 'malformed') return fail('MALFORMEDREQUEST', 'key')
  if (s.key.cat === 'empty' || s.key.cat === 'blank' || s.key.cat === 'tooLong') return fail('INVALIDPARAMETER', 'key')
  // What is present from here on.
  const given = (p: P) => p.cat === 'valid'
  const jwt = given(s.jwt) || s.jwt.cat === 'tooLong'
  const hasAti = s.ati.cat === 'object'
  const code = hasAti && given(s.ati.code)
  const identifier = hasAti && given(s.ati.identifier)
  const passCode = hasAti && given(s.ati.passCode)
  const organisation = given(s.organisation)
  const unit = given(s.unit)
  const key = s.key.cat === 'valid'
  // 3.4 inside access_token_identifier.
  if (hasAti && !code && !identifier) return fail('MISSINGPARAMETER', `${ATI}.authentication_code`, `${ATI}.identifier`)
  if (hasAti && code && identifier) return fail('CONFLICTINGPARAMETERS', `${ATI}.authentication_code`, `${ATI}.identifier`)
  if (identifier && !passCode) return fail('MISSINGPARAMETER', `${ATI}.pass_code`)
  if (code && passCode) return fail('CONFLICTINGPARAMETERS', `${ATI}.pass_code`)
  // 3.5 release rules: newer -> missing -> both groups -> not applicable.
  if (!atLeast(16, 2, 0)) {
    if (jwt) return fail('PARAMETERNOTAVAILABLE', 'jwt')
    if (organisation) return fail('PARAMETERNOTAVAILABLE', 'organisation')
    if (!key) return fail('MISSINGPARAMETER', 'key')
    if (!hasAti) return fail('MISSINGPARAMETER', ATI)
  } else {
    if (!jwt && !hasAti) return fail('MISSINGPARAMETER', 'jwt', ATI)
    if (identifier && !key) return fail('MISSINGPARAMETER', 'key')
    if (jwt && !organisation) return fail('MISSINGPARAMETER', 'organisation')
    if (jwt && hasAti) return fail('CONFLICTINGPARAMETERS', 'jwt', ATI)
    if (organisation && !jwt) return fail('CONFLICTINGPARAMETERS', 'organisation')
    if (jwt && key) return fail('CONFLICTINGPARAMETERS', 'key')
    if (jwt && unit) return fail('CONFLICTINGPARAMETERS', 'unit')
  }
  const str = (p: P) => p.value as string
  const keyField: Record<string, string> = key && s.key.input._tag === 'Key' ? { key: s.key.input.key } : {}
  const unitField: Record<string, string> = unit ? { unit: str(s.unit) } : {}
  if (code) return { mode: 'AuthenticationCode', fields: { authenticationCode: str(s.ati.code), ...keyField, ...unitField } }
  if (identifier) {
    return { mode: 'IdentifierPassCode', fields: { identifier: str(s.ati.identifier), passCode: str(s.ati.passCode), ...keyField, ...unitField } }
  }
  return { mode: 'IdentityJwt', fields: { jwt: str(s.jwt), organisation: str(s.organisation) } }
}

// ---------------------------------------------------------------- comparing

const actual = (s: Sample): Outcome => {
  const r = resolveCredentials(releaseOf(s.release), wireOf(s))
  if (E.isLeft(r)) return { error: r.left.name, parameters: r.left.parameters }
  const { _tag, ...fields } = r.right
  return { mode: _tag, fields: fields as Record<string, string> }
}

/** Every parameter an error names is mentioned in its message (by its last path segment at least). */
const messageNamesParameters = (s: Sample) => {
  const r = resolveCredentials(releaseOf(s.release), wireOf(s))
  if (E.isRight(r)) return
  expect(r.left.message.trim()).not.toBe('')
  for (const p of r.left.parameters) expect(r.left.message).toContain(p.split('.').pop())
  if (r.left.name === 'PARAMETERNOTAVAILABLE') expect(r.left.message).toContain('R16.2.0')
}

const label = (o: Outcome) => ('error' in o ? o.error : o.mode)

describe('resolveCredentials against the SPEC 2-3 oracle', () => {
  it('agrees with the oracle on random requests over the whole matrix', () => {
    const seen = new Map<string, number>()
    fc.assert(
      fc.property(sample, (s) => {
        const expected = oracle(s)
        seen.set(label(expected), (seen.get(label(expected)) ?? 0) + 1)
        expect(actual(s)).toStrictEqual(expected)
        messageNamesParameters(s)
      }),
      { numRuns: 6000 },
    )
    if (process.env.SHOW_STATS) console.log(Object.fromEntries(seen))
    // The generator reaches every outcome, so the comparison above is not vacuous.
    for (const name of [
      'METHODNOTAVAILABLE', 'MALFORMEDREQUEST', 'INVALIDPARAMETER', 'UNKNOWNPARAMETER', 'MISSINGPARAMETER',
      'CONFLICTINGPARAMETERS', 'PARAMETERNOTAVAILABLE', 'AuthenticationCode', 'IdentifierPassCode', 'IdentityJwt',
    ]) {
      expect(seen.get(name) ?? 0, name).toBeGreaterThan(0)
    }
  })

  it('agrees with the oracle when every parameter is well-formed (combination rules only)', () => {
    const presence = (p: fc.Arbitrary<P>) => fc.oneof(fc.constant<P>({ cat: 'absent' }), fc.constant<P>({ cat: 'null', value: null }), p)
    const valid = validString.map((value): P => ({ cat: 'valid', value }))
    const wellFormed: fc.Arbitrary<Sample> = fc.record({
      release: fc.constantFrom(...RELEASES.filter((r) => releaseOf(r).major >= 15)),
      body: fc.constant({ kind: 'object' as const }),
      jwt: presence(valid),
      ati: fc.record({
        cat: fc.constantFrom<AtiCat>('absent', 'null', 'object', 'object'),
        code: presence(valid),
        identifier: presence(valid),
        passCode: presence(valid),
        unknown: fc.constant([]),
        order,
      }).map((a) => (a.cat === 'null' ? { ...a, value: null } : a)),
      organisation: presence(valid),
      unit: presence(valid),
      unknown: fc.constant([]),
      order,
      key: fc.oneof(
        fc.constant<K>({ cat: 'none', input: { _tag: 'NoKey' } }),
        validString.map((key): K => ({ cat: 'valid', input: { _tag: 'Key', key } })),
      ),
    })
    fc.assert(
      fc.property(wellFormed, (s) => {
        expect(actual(s)).toStrictEqual(oracle(s))
        messageNamesParameters(s)
      }),
      { numRuns: 3000 },
    )
  })

  it('agrees with the oracle on every presence combination at every release (exhaustive)', () => {
    const v = (value: string): P => ({ cat: 'valid', value })
    const absent: P = { cat: 'absent' }
    let cases = 0
    for (const release of RELEASES) {
      for (let mask = 0; mask < 256; mask++) {
        const bit = (i: number) => (mask & (1 << i)) !== 0
        const s: Sample = {
          release,
          body: { kind: 'object' },
          jwt: bit(0) ? v('eyJ.identity.jwt') : absent,
          ati: {
            cat: bit(1) ? 'object' : 'absent',
            code: bit(2) ? v(EXAMPLE_CODE) : absent,
            identifier: bit(3) ? v('maria') : absent,
            passCode: bit(4) ? v('4711') : absent,
            unknown: [],
            order: [0, 1, 2],
          },
          organisation: bit(5) ? v('ps_dev') : absent,
          unit: bit(6) ? v('1') : absent,
          unknown: [],
          order: [0, 1, 2, 3],
          key: bit(7) ? { cat: 'valid', input: { _tag: 'Key', key: EXAMPLE_KEY } } : { cat: 'none', input: { _tag: 'NoKey' } },
        }
        expect(actual(s), `${release} mask ${mask}`).toStrictEqual(oracle(s))
        messageNamesParameters(s)
        cases++
      }
    }
    expect(cases).toBe(RELEASES.length * 256)
  })
})

describe('resolveCredentials examples from SPEC', () => {
  const key: KeyInput = { _tag: 'Key', key: EXAMPLE_KEY }
  const R = (s: string) => releaseOf(s)

  it('resolves the documented example to AuthenticationCode with key and unit', () => {
    const r = resolveCredentials(R('R16.2.0'), { body: { access_token_identifier: { authentication_code: EXAMPLE_CODE }, unit: '1' }, key })
    expect(r).toStrictEqual(E.right({ _tag: 'AuthenticationCode', key: EXAMPLE_KEY, authenticationCode: EXAMPLE_CODE, unit: '1' }))
  })

  it('explains a missing pass code as SPEC 3 words it', () => {
    const r = resolveCredentials(R('R16.2.0'), { body: { access_token_identifier: { identifier: 'maria' } }, key })
    expect(E.isLeft(r) && r.left.message).toBe('pass_code is mandatory when access_token_identifier.identifier is given')
  })

  it('suggests organisation for organization', () => {
    expect(nearestName('organization', KNOWN_TOP)).toBe('organisation')
    expect(nearestName('passcode', KNOWN_INNER)).toBe('pass_code')
    const r = resolveCredentials(R('R16.2.0'), { body: { jwt: 'x.y.z', organization: 'ps_dev' }, key: { _tag: 'NoKey' } })
    expect(E.isLeft(r) && r.left.name).toBe('UNKNOWNPARAMETER')
    expect(E.isLeft(r) && r.left.parameters).toEqual(['organization'])
    expect(E.isLeft(r) && r.left.message).toContain('"organisation"')
  })

  it('bounds jwt at 8192 characters rather than 512, since identity JWTs are longer', () => {
    const body = (jwt: string) => ({ body: { jwt, organisation: 'ps_dev' }, key: { _tag: 'NoKey' } as KeyInput })
    expect(E.isRight(resolveCredentials(R('R16.2.0'), body('j'.repeat(8192))))).toBe(true)
    const r = resolveCredentials(R('R16.2.0'), body('j'.repeat(8193)))
    expect(E.isLeft(r) && [r.left.name, ...r.left.parameters]).toEqual(['INVALIDPARAMETER', 'jwt'])
    expect(E.isLeft(r) && r.left.message).toContain('8192')
  })
})
