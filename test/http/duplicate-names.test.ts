/**
 * Duplicate names in a JSON body: the scanner (properties over generated JSON, with names spelled through escapes)
 * and the service, which refuses such a body as 400 MALFORMEDREQUEST naming the name, instead of keeping the last.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { firstDuplicateName } from '../../adapters/http/duplicate-names.js'
import { errorCode } from '../../core/index.js'
import { postToken, rawRequest, SESSION_ROUTE, startTestService, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

/** A JSON value written by hand: objects as entry lists, so that a name can be repeated. */
type Tree = { readonly t: 'leaf'; readonly json: string } | { readonly t: 'arr'; readonly a: ReadonlyArray<Tree> } | { readonly t: 'obj'; readonly e: ReadonlyArray<readonly [string, Tree]> }

/** Short names from a small alphabet, so that generated objects repeat names often; a quote, a backslash, non-ASCII, an astral character. */
const name = fc.string({ unit: fc.constantFrom('a', 'b', 'u', '"', '\\', 'é', '\u2028', '/', '😀'), maxLength: 3 })

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 0 }).map((v): Tree => ({ t: 'leaf', json: JSON.stringify(v) ?? 'null' })),
    fc.array(tie('node'), { maxLength: 4 }).map((a): Tree => ({ t: 'arr', a })),
    fc.array(fc.tuple(name, tie('node')), { maxLength: 5 }).map((e): Tree => ({ t: 'obj', e })),
  ),
})).node

/**
 * A string literal with each character written raw or escaped (\uXXXX, or `\"` and `\\` for those that must be),
 * as the next flag of `escapes` says: the flags run on across the whole text, so that two occurrences of one name are
 * spelled differently.
 */
const speller = (escapes: ReadonlyArray<boolean>) => {
  let at = 0
  return (s: string): string =>
    '"' +
    [...s]
      .map((ch) => {
        const escape = escapes[at++ % escapes.length]
        if (ch === '"' || ch === '\\') return escape ? `\\u00${ch.charCodeAt(0).toString(16)}` : `\\${ch}`
        if (!escape) return ch
        // Every UTF-16 unit as \uXXXX: a character outside the BMP becomes its surrogate pair.
        return Array.from({ length: ch.length }, (_, k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join('')
      })
      .join('') +
    '"'
}

const write = (t: Tree, spell: (s: string) => string, space: string): string =>
  t.t === 'leaf'
    ? t.json
    : t.t === 'arr'
      ? `[${space}${t.a.map((x) => write(x, spell, space)).join(`,${space}`)}${space}]`
      : `{${space}${t.e.map(([k, v]) => `${spell(k)}${space}:${space}${write(v, spell, space)}`).join(`,${space}`)}${space}}`

/** The model: does any object of the tree give a name twice? */
const hasDuplicate = (t: Tree): boolean =>
  t.t === 'leaf' ? false : t.t === 'arr' ? t.a.some(hasDuplicate) : new Set(t.e.map(([k]) => k)).size < t.e.length || t.e.some(([, v]) => hasDuplicate(v))

describe('firstDuplicateName', () => {
  it('finds nothing in any JSON.stringify output (which never repeats a name), indented or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(firstDuplicateName(JSON.stringify(v))).toBeUndefined()
        expect(firstDuplicateName(JSON.stringify(v, null, 2))).toBeUndefined()
      }),
      { numRuns: 2000 },
    )
  })

  it('finds a duplicate exactly when some object at any depth repeats a name, however the names are escaped', () => {
    fc.assert(
      fc.property(tree, fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), fc.constantFrom('', ' ', '\n\t '), (t, escapes, space) => {
        const text = write(t, speller(escapes), space)
        JSON.parse(text) // the generated text is valid JSON
        const found = firstDuplicateName(text)
        expect(found !== undefined, text).toBe(hasDuplicate(t))
      }),
      { numRuns: 3000 },
    )
  })

  it('finds a duplicate among many names of one object (past the short list, in the Set)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 60 }), (names) => {
        const text = `{${names.map((n, i) => `${JSON.stringify(n)}:${i}`).join(',')}}`
        expect(firstDuplicateName(text) !== undefined).toBe(new Set(names).size < names.length)
      }),
      { numRuns: 1000 },
    )
    const many = Array.from({ length: 4000 }, (_, i) => `"n${i}":0`)
    expect(firstDuplicateName(`{${many.join(',')}}`)).toBeUndefined()
    expect(firstDuplicateName(`{${many.join(',')},"n17":1}`)).toBe('n17')
  })

  it('names the duplicate by its path, decoded', () => {
    expect(firstDuplicateName('{"unit":"2","unit":"1"}')).toBe('unit')
    expect(firstDuplicateName('{"un\\u0069t":"2","unit":"1"}')).toBe('unit')
    expect(firstDuplicateName('{"access_token_identifier":{"authentication_code":"a","authentication_code":"b"}}')).toBe('access_token_identifier.authentication_code')
    expect(firstDuplicateName('{"a":"}{\\",\\\\","a":1}')).toBe('a')
    expect(firstDuplicateName('{"list":[{"id":1},{"id":2,"x":{"id":3},"id":4}]}')).toBe('list[].id')
    expect(firstDuplicateName('{"__proto__":1,"__proto__":2}')).toBe('__proto__')
    expect(firstDuplicateName('{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":"a"}')).toBeUndefined()
    expect(firstDuplicateName('["a","a",{"a":"a"}]')).toBeUndefined()
  })
})

describe('a body with a duplicate name', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc.stop())

  const refused = [
    { body: '{"access_token_identifier":{"authentication_code":"p_kestora1!"},"unit":"2","unit":"1"}', name: 'unit' },
    { body: '{"access_token_identifier":{"authentication_code":"wrong","authentication_code":"p_kestora1!"}}', name: 'access_token_identifier.authentication_code' },
    { body: '{"access_token_identifier":{"authentication_code":"p_kestora1!"},"un\\u0069t":"2","unit":"1"}', name: 'unit' },
    { body: '{"access_token_identifier":{"authentication_code":"x"},"access_token_identifier":{"authentication_code":"p_kestora1!"}}', name: 'access_token_identifier' },
  ]
  for (const r of refused) {
    it(`is refused, 400 MALFORMEDREQUEST naming ${r.name}: ${r.body.slice(0, 60)}…`, async () => {
      const res = await postToken(svc.url, r.body, { Authorization: EXAMPLE_AUTHORIZATION })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({ data: null, status: { code: errorCode('MALFORMEDREQUEST'), description: 'MALFORMEDREQUEST' } })
      expect(res.json.status.message).toContain(`"${r.name}"`)
    })
  }

  it('is refused on the session route too', async () => {
    const body = '{"token":"a","token":"b"}'
    const res = await rawRequest(svc.url, { method: 'GET', path: SESSION_ROUTE, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }, body })
    expect(res.status).toBe(400)
    expect(res.json.status.message).toContain('"token"')
  })

  it('the same names in different objects are no duplicate: the example answers 200', async () => {
    const res = await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })
    expect(res.status, res.text).toBe(200)
  })
})
