/**
 * The io-ts toolkit (core/codec.ts) and every codec built with it: `is` answers true exactly when `decode` succeeds,
 * and what `decode` answers then is the input itself. Inputs are random JSON-like values mixed with values that are
 * valid or nearly so (a field missing, one of another shape, one too many), so that both answers occur often.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { beforeAll, describe, expect, it } from 'vitest'
import { errorPath, formatPath, isPlainObject, object, text } from '../../core/codec.js'
import { JwtString, ParameterString } from '../../core/index.js'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { SecretsCodec, type Secrets } from '../../adapters/crypto/secrets-codec.js'
import { ImportDocument } from '../../adapters/provisioning/import-document.js'
import {
  AccessTokenEntry, ConsumerEntry, IdentityLinkEntry, IdentityProviderEntry, OrganisationEntry, UnitEntry, UserEntry, WebApiKeyEntry,
} from '../../adapters/provisioning/entries.js'
import { DateTimeOrNull, Jwks, KeyText, Name, PublicJwk, Secret } from '../../adapters/provisioning/import-codecs.js'

const agrees = (codec: t.Mixed, arbitrary: fc.Arbitrary<unknown>) =>
  fc.assert(
    fc.property(arbitrary, (u) => {
      const decoded = codec.decode(u)
      expect(codec.is(u), JSON.stringify(u)).toBe(E.isRight(decoded))
      if (E.isRight(decoded)) expect(decoded.right).toEqual(u)
    }),
    { numRuns: 300 },
  )

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.constantFrom('', '  ', 'x'.repeat(600), 'a\u0001b', ' padded ', 'organization', null, 7, true),
  fc.array(fc.constantFrom('1', '2', ''), { maxLength: 3 }),
)

const names = fc.constantFrom('ps_dev', '1', 'maria', 'https://id.example.com', '\u{1F511}')
const publicJwk = fc.constantFrom<unknown>({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, { kty: 'RSA', n: 'AA', e: 'AQAB' }, { kty: 'RSA', d: 'x' }, { kty: 'oct', k: 'x' })
const valid: Record<string, fc.Arbitrary<unknown>> = {
  key: fc.constantFrom('EE73C0AE64524371B5DDEFF5F7BB2192', 'short', `${'\u{1F511}'.repeat(16)}`),
  classification: fc.constantFrom('CONSUMER_APPLICATION_KEY', 'SYSTEMIC_KEY', 'OTHER'),
  status: fc.constantFrom('ACTIVE', 'REVOKED', 'ENABLED'),
  state: fc.constantFrom('EFFECTIVE', 'SUSPENDED', 'CANCELLED'),
  valid_from: fc.constantFrom(null, '2026-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01'),
  valid_to: fc.constantFrom(null, '2027-01-01T00:00:00+02:00', '2026-01-01T25:00:00Z'),
  authentication_code: fc.constantFrom('p_kestora1!', ' '),
  pass_code: fc.constantFrom('4711', ''),
  units: fc.array(names, { maxLength: 3 }),
  jwks: fc.array(publicJwk, { maxLength: 2 }).map((keys) => ({ keys })),
}
const valueFor = (field: string): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: valid[field] ?? names }, { weight: 1, arbitrary: leaf })

/** An object of these fields, each present or not, sometimes with one field too many. */
const objectOf = (fields: ReadonlyArray<string>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.record(Object.fromEntries(fields.map((f) => [f, valueFor(f)])), { requiredKeys: [] }), fc.option(leaf, { freq: 4 })).map(([o, extra]) => (extra === null ? o : { ...o, organization: extra })) },
    { weight: 1, arbitrary: leaf },
  )

const entries = {
  organisations: ['id', 'name', 'consumer_user'],
  units: ['organisation', 'id', 'name'],
  users: ['organisation', 'username', 'units', 'default_unit'],
  web_api_keys: ['organisation', 'user', 'key', 'classification', 'status'],
  consumers: ['organisation', 'contact_information_id', 'accounts_receivable_id'],
  access_tokens: ['organisation', 'accounts_receivable_id', 'state', 'authentication_code', 'identifier', 'pass_code', 'valid_from', 'valid_to'],
  identity_providers: ['issuer', 'audience', 'jwks'],
  identity_links: ['issuer', 'subject', 'organisation', 'accounts_receivable_id'],
} as const

describe('the io-ts toolkit', () => {
  it('text, and an object that keeps or refuses undeclared fields', () => {
    const Short = text('Short', (s) => (s.length <= 3 ? undefined : 'is too long'))
    agrees(Short, fc.oneof(fc.string({ maxLength: 6 }), leaf))
    for (const unknownField of ['keep', () => 'is not a field'] as const) {
      const O = object('O', { a: Short }, { b: Short }, { notAnObject: 'must be an object', missing: 'is mandatory', unknownField })
      agrees(O, fc.oneof(fc.record({ a: fc.string({ maxLength: 5 }), b: fc.string({ maxLength: 5 }), c: leaf }, { requiredKeys: [] }), leaf))
    }
  })

  it('the error path names fields and array indexes', () => {
    const r = ImportDocument.decode({ users: [{ organisation: 'o', username: 'u', units: ['1', ''] }] })
    expect(E.isLeft(r) && r.left.map((e) => formatPath(errorPath(e.context)))).toEqual(['users[0].units[1]'])
    expect([isPlainObject({}), isPlainObject([]), isPlainObject(null), isPlainObject('x')]).toEqual([true, false, false, false])
  })
})

describe('is agrees with decode', () => {
  it('the request parameters', () => {
    agrees(ParameterString, fc.oneof(fc.string(), fc.string({ minLength: 510, maxLength: 515 }), leaf))
    agrees(JwtString, fc.oneof(fc.string(), leaf))
  })

  it('the import scalars', () => {
    agrees(Name, fc.oneof(names, fc.string(), leaf))
    agrees(Secret, fc.oneof(fc.string(), leaf))
    agrees(KeyText, fc.oneof(valid['key']!, fc.string({ minLength: 14, maxLength: 20 }), leaf))
    agrees(DateTimeOrNull, fc.oneof(valid['valid_from']!, valid['valid_to']!, leaf))
    agrees(PublicJwk, fc.oneof(publicJwk, leaf))
    agrees(Jwks, fc.oneof(valid['jwks']!, objectOf(['keys'])))
  })

  it('the import entries and the document', () => {
    const codecs = {
      organisations: OrganisationEntry, units: UnitEntry, users: UserEntry, web_api_keys: WebApiKeyEntry, consumers: ConsumerEntry,
      access_tokens: AccessTokenEntry, identity_providers: IdentityProviderEntry, identity_links: IdentityLinkEntry,
    }
    for (const [name, fields] of Object.entries(entries)) agrees(codecs[name as keyof typeof codecs], objectOf(fields))
    const document = fc.record(Object.fromEntries(Object.entries(entries).map(([name, fields]) => [name, fc.array(objectOf(fields), { maxLength: 2 })])), { requiredKeys: [] })
    agrees(ImportDocument, fc.oneof(document, leaf))
  })

  describe('the secrets', () => {
    let secrets: Secrets
    beforeAll(async () => {
      secrets = await generateSecrets()
    })

    it('a document valid or changed in one place', () => {
      const fields = ['pepper', 'signingKeys', 'activeKid', 'extra'] as const
      const changed = fc.oneof(
        fc.constant<unknown>(secrets),
        fc.tuple(fc.constantFrom(...fields), leaf).map(([f, v]) => ({ ...secrets, [f]: v })),
        fc.constantFrom(...fields).map((f) => Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== f))),
        fc.tuple(fc.constantFrom('kid', 'alg', 'secret', 'retiredAt', 'retiredat'), fc.oneof(leaf, fc.constantFrom('HS256', 'ES256', 'k2', 1_800_000_000))).map(([f, v]) => ({
          ...secrets,
          signingKeys: [{ ...secrets.signingKeys[0], [f]: v }, ...secrets.signingKeys.slice(1)],
        })),
        fc.constant({ ...secrets, signingKeys: [...secrets.signingKeys, secrets.signingKeys[0]] }),
        leaf,
      )
      agrees(SecretsCodec, changed)
    })
  })
})
