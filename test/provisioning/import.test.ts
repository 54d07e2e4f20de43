import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Ajv2020 from 'ajv/dist/2020.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { demoDocument, seedDemoIfEmpty } from '../../adapters/provisioning/demo.js'
import { accessTokenId } from '../../adapters/provisioning/ids.js'
import type { ReferenceLookups } from '../../adapters/provisioning/entries.js'
import { checkImportDocument } from '../../adapters/provisioning/import-checks.js'
import { DATE_TIME_PATTERN, KEY_PATTERN, NAME_PATTERN, SECRET_PATTERN } from '../../adapters/provisioning/import-codecs.js'
import { decodeImportDocument } from '../../adapters/provisioning/import-document.js'
import { importDocument, type ImportSummary } from '../../adapters/provisioning/import.js'
import type { Store } from '../../adapters/store/store.js'
import { fakeDeps } from './fakes.js'
import { fakeDigest, testClock } from '../support/doubles.js'
import { EXAMPLE_ARI, EXAMPLE_CII, EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE, EXAMPLE_SECRETS, exampleDocument, showsSecret } from '../support/example.js'

const snapshot = async (s: Store) => ({
  organisations: await s.listOrganisations(),
  units: await s.listUnits(),
  users: await s.listUsers(),
  keys: await s.listKeys(),
  consumers: await s.listConsumers(),
  accessTokens: await s.listAccessTokens(),
  providers: await s.listIdentityProviders(),
  links: await s.listIdentityLinks(),
})

const right = <A>(e: E.Either<string[], A>): A => {
  if (E.isLeft(e)) throw new Error(`expected success, got: ${e.left.join('\n')}`)
  return e.right
}
const left = <A>(e: E.Either<string[], A>): string[] => {
  if (E.isRight(e)) throw new Error('expected errors, got success')
  return e.left
}

describe('importDocument', () => {
  it('imports the SPEC 9 example, with secrets only as digests and hashes', async () => {
    const store = new MemoryStore()
    const deps = fakeDeps()
    const summary = right(await importDocument(store, exampleDocument(), deps))
    expect(summary.organisations).toEqual({ created: 1, updated: 0 })
    expect(summary.access_tokens).toEqual({ created: 2, updated: 0 })
    expect(summary.identity_links).toEqual({ created: 1, updated: 0 })

    const [key] = await store.listKeys()
    expect(key).toMatchObject({
      digest: fakeDigest.digest(EXAMPLE_KEY), prefix: 'EE73C0', organisation: 'ps_dev', user: 'maytemplate',
      classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: 1_700_000_000,
    })
    const [byCode] = await store.findByAuthenticationCode(fakeDigest.digest(EXAMPLE_CODE), 'ps_dev')
    expect(byCode?.id).toBe(accessTokenId('ps_dev', { codeDigest: fakeDigest.digest(EXAMPLE_CODE) }))
    expect(byCode?.consumer.contactInformationId).toBe(EXAMPLE_CII)
    const maria = await store.findByIdentifier('ps_dev', EXAMPLE_IDENTIFIER)
    expect(maria?.id).toMatch(/^[0-9A-F]{32}$/)
    expect(maria?.validFrom).toBe(Date.parse('2026-01-01T00:00:00Z') / 1000)
    expect(maria?.validTo).toBeUndefined()
    expect(await deps.hasher.verify(EXAMPLE_PASS_CODE, maria!.passCodeHash!)).toBe(true)
    expect(await store.findUser('ps_dev', 'maytemplate')).toEqual({ organisation: 'ps_dev', username: 'maytemplate', defaultUnit: '1', units: ['1'] })
    expect(await store.findConsumer('https://id.example.com', 'u-42', 'ps_dev')).toMatchObject({ accountsReceivableId: EXAMPLE_ARI })

    const stored = JSON.stringify(await snapshot(store))
    for (const secret of EXAMPLE_SECRETS) expect(showsSecret(stored, secret), secret).toBe(false)
  })

  it('is idempotent: a second import of the same file leaves the same rows', async () => {
    const store = new MemoryStore()
    const deps = fakeDeps()
    right(await importDocument(store, exampleDocument(), deps))
    const first = await snapshot(store)
    const hashesAfterFirst = deps.hasher.hashes
    const again: ImportSummary = right(await importDocument(store, exampleDocument(), { ...deps, clock: testClock(1_800_000_000) }))
    expect(await snapshot(store)).toEqual(first)
    expect(deps.hasher.hashes).toBe(hashesAfterFirst) // the stored pass-code hash still verifies: kept
    expect(again.access_tokens).toEqual({ created: 0, updated: 2 })
    expect(again.web_api_keys).toEqual({ created: 0, updated: 1 })
    expect(again.notes).toEqual([])
  })

  it('updates by natural key: a changed pass code replaces the hash of the same token', async () => {
    const store = new MemoryStore()
    const deps = fakeDeps()
    right(await importDocument(store, exampleDocument(), deps))
    const doc = exampleDocument()
    doc.access_tokens[1]!.pass_code = '9999'
    right(await importDocument(store, doc, deps))
    expect(await store.listAccessTokens()).toHaveLength(2)
    const maria = await store.findByIdentifier('ps_dev', EXAMPLE_IDENTIFIER)
    expect(await deps.hasher.verify('9999', maria!.passCodeHash!)).toBe(true)
  })

  it('notes a revoked key that the file makes active again', async () => {
    const store = new MemoryStore()
    const deps = fakeDeps()
    const s = right(await importDocument(store, exampleDocument(), deps))
    await store.setKeyStatus(s.keyDigests[0]!, 'REVOKED')
    const again = right(await importDocument(store, exampleDocument(), deps))
    expect(again.notes).toEqual(['key EE73C0…: status REVOKED -> ACTIVE'])
  })

  it('resolves references against the store as well as the file', async () => {
    const store = new MemoryStore()
    const deps = fakeDeps()
    const { access_tokens: _a, identity_links: _l, ...base } = exampleDocument()
    right(await importDocument(store, base, deps))
    const s = right(await importDocument(store, {
      access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: EXAMPLE_ARI, identifier: 'ana', pass_code: '1', state: 'SUSPENDED' }],
      identity_links: [{ issuer: 'https://id.example.com', subject: 'u-7', organisation: 'ps_dev', accounts_receivable_id: EXAMPLE_ARI }],
      users: [{ organisation: 'ps_dev', username: 'second', units: ['1'] }],
    }, deps))
    expect(s.access_tokens.created).toBe(1)
    expect((await store.findByIdentifier('ps_dev', 'ana'))?.state).toBe('SUSPENDED')
  })

  it('rejects a bad file as a whole, writes nothing, and names every entry and field at fault', async () => {
    const store = new MemoryStore()
    const doc: any = exampleDocument()
    delete doc.access_tokens[1].pass_code
    doc.units.push({ organisation: 'nowhere', id: '2', name: 'Branch' })
    doc.consumers[0].organization = 'ps_dev'
    doc.web_api_keys[0].status = 'ENABLED'
    const shape = left(await importDocument(store, doc, fakeDeps()))
    expect(shape).toEqual([
      'web_api_keys[0].status: must be one of ACTIVE, REVOKED',
      'consumers[0].organization: is not a field of consumers (did you mean organisation?)',
    ])
    expect(await snapshot(store)).toEqual(await snapshot(new MemoryStore()))

    delete doc.consumers[0].organization
    doc.web_api_keys[0].status = 'ACTIVE'
    doc.users[0].units.push('3')
    doc.access_tokens.push({ ...doc.access_tokens[0] })
    doc.access_tokens.push({ organisation: 'ps_dev', accounts_receivable_id: 'nobody', state: 'EFFECTIVE' })
    doc.identity_links[0].issuer = 'https://other.example.com'
    const references = left(await importDocument(store, doc, fakeDeps()))
    expect(references).toEqual([
      'units[1].organisation: no organisation "nowhere" in this file or the store',
      'users[0].units[1]: no unit "3" in organisation "ps_dev" in this file or the store',
      'access_tokens[1].pass_code: is mandatory when identifier is given',
      'access_tokens[2].authentication_code: is the same code as access_tokens[0] in organisation "ps_dev"',
      'access_tokens[3].accounts_receivable_id: no consumer with accounts_receivable_id "nobody" in organisation "ps_dev" in this file or the store',
      'access_tokens[3].authentication_code: is mandatory unless identifier and pass_code are given',
      'identity_links[0].issuer: no identity provider with issuer "https://other.example.com" in this file or the store',
    ])
    expect(await snapshot(store)).toEqual(await snapshot(new MemoryStore()))
    for (const secret of EXAMPLE_SECRETS) expect(showsSecret(references.join('\n'), secret), secret).toBe(false)
  })

  it('checks scalars: blank names, bad dates, private JWKs, short keys, both credentials', async () => {
    const doc: any = exampleDocument()
    doc.organisations[0].name = '   '
    doc.access_tokens[1].valid_from = '2026-02-30T00:00:00Z'
    doc.access_tokens[0].valid_to = 'tomorrow'
    doc.identity_providers[0].jwks.keys.push({ kty: 'RSA', n: 'x', e: 'AQAB', d: 'secret' }, { kty: 'oct', k: 'abc' })
    doc.web_api_keys[0].key = 'short'
    const errors = left(await importDocument(new MemoryStore(), doc, fakeDeps()))
    expect(errors).toEqual([
      'organisations[0].name: must not be empty or only whitespace',
      'web_api_keys[0].key: must be 16 to 512 characters without whitespace, control characters or ":"',
      'access_tokens[0].valid_to: must be an ISO-8601 date-time with an offset, e.g. 2026-01-01T00:00:00Z',
      'access_tokens[1].valid_from: has no such day: 2026-02-30',
      'identity_providers[0].jwks.keys[0]: holds private key material ("d"): give the public key only',
      'identity_providers[0].jwks.keys[1]: must have kty RSA, EC, OKP (asymmetric public keys only)',
    ])
    expect(errors.join('\n')).not.toContain('secret')

    const both: any = exampleDocument()
    both.access_tokens[0].identifier = 'x'
    both.access_tokens[1].valid_to = '2025-01-01T00:00:00Z'
    both.organisations.push({ ...both.organisations[0] })
    expect(left(await importDocument(new MemoryStore(), both, fakeDeps()))).toEqual([
      'organisations[1].id: duplicates organisations[0] (id "ps_dev")',
      'access_tokens[0].identifier: is not applicable when authentication_code is given: give one of them',
      'access_tokens[1].valid_to: must be later than valid_from',
    ])
    expect(left(await importDocument(new MemoryStore(), [], fakeDeps()))).toEqual(['must be an object'])
    expect(left(await importDocument(new MemoryStore(), { units: {} }, fakeDeps()))).toEqual(['units: must be an array'])
  })

  it('refuses to move an existing key to another user', async () => {
    const store = new MemoryStore()
    right(await importDocument(store, exampleDocument(), fakeDeps()))
    const doc = {
      users: [{ organisation: 'ps_dev', username: 'other', units: [] }],
      web_api_keys: [{ ...exampleDocument().web_api_keys[0]!, user: 'other' }],
    }
    expect(left(await importDocument(store, doc, fakeDeps()))).toEqual([
      'web_api_keys[0].key: already exists for user "maytemplate" of organisation "ps_dev"; a key cannot be moved to another user',
    ])
    expect(await store.findUser('ps_dev', 'other')).toBeUndefined()
  })

  it('writes nothing when the store fails half-way (one transaction)', async () => {
    const store = new MemoryStore()
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'transaction') {
          return <T>(work: (s: Store) => Promise<T>) =>
            target.transaction((tx) => work(new Proxy(tx, {
              get: (t, p) => (p === 'upsertAccessToken' ? () => Promise.reject(new Error('disk full')) : Reflect.get(t, p)),
            })))
        }
        return Reflect.get(target, prop, receiver)
      },
    })
    await expect(importDocument(failing, exampleDocument(), fakeDeps())).rejects.toThrow('disk full')
    expect(await snapshot(store)).toEqual(await snapshot(new MemoryStore()))
  })

  it('keeps secrets out of the summary', async () => {
    const summary = right(await importDocument(new MemoryStore(), exampleDocument(), fakeDeps()))
    const text = JSON.stringify(summary)
    for (const secret of EXAMPLE_SECRETS) expect(showsSecret(text, secret), secret).toBe(false)
  })
})

describe('seedDemoIfEmpty', () => {
  it('seeds the documented example (without maria) only into an empty store', async () => {
    const store = new MemoryStore()
    expect(await seedDemoIfEmpty(store, fakeDeps())).toBe(true)
    const [key] = await store.listKeys()
    expect(key).toMatchObject({ prefix: 'EE73C0', status: 'ACTIVE', classification: 'CONSUMER_APPLICATION_KEY', user: 'maytemplate' })
    expect(await store.listAccessTokens()).toHaveLength(1)
    expect(await store.findByIdentifier('ps_dev', EXAMPLE_IDENTIFIER)).toBeUndefined()
    expect((await store.findByAuthenticationCode(fakeDigest.digest(EXAMPLE_CODE)))[0]?.consumer).toEqual({
      organisation: 'ps_dev', contactInformationId: EXAMPLE_CII, accountsReceivableId: EXAMPLE_ARI,
    })
    expect(await seedDemoIfEmpty(store, fakeDeps())).toBe(false)

    const other = new MemoryStore()
    await other.upsertOrganisation({ id: 'acme', name: 'Acme', consumerUser: 'web' })
    expect(await seedDemoIfEmpty(other, fakeDeps())).toBe(false)
    expect(await other.listKeys()).toEqual([])
  })
})

describe('import.schema.json', () => {
  const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../import.schema.json', import.meta.url)), 'utf8'))
  const validate = new Ajv2020.default({ allErrors: true }).compile(schema)
  const everythingExists: ReferenceLookups = {
    findOrganisation: async (id) => ({ id, name: id, consumerUser: 'u' }),
    findUser: async (organisation, username) => ({ organisation, username, units: [] }),
    listUnits: async (organisation = 'o') => ['1', '2', '3'].map((id) => ({ organisation, id, name: id })),
    findConsumerByAccountsReceivable: async (organisation, accountsReceivableId) => ({ organisation, accountsReceivableId, contactInformationId: 'c' }),
    listIdentityProviders: async () => [],
    findKeyByDigest: async () => undefined,
  }
  /** The codec's verdict on shape and credential rules (references all resolve). */
  const codecAccepts = async (doc: unknown) => {
    const d = decodeImportDocument(doc)
    return E.isRight(d) && (await checkImportDocument(d.right, { ...everythingExists, listIdentityProviders: async () => [{ issuer: 'https://id.example.com', audience: 'a', jwks: { keys: [] } }] }, fakeDigest)).length === 0
  }

  it('accepts the SPEC 9 example and the demo seed', () => {
    expect(validate(exampleDocument()), JSON.stringify(validate.errors)).toBe(true)
    expect(validate(demoDocument), JSON.stringify(validate.errors)).toBe(true)
    expect(validate({})).toBe(true)
  })

  it('uses the same patterns as the codec', () => {
    expect(schema.$defs.name.pattern).toBe(NAME_PATTERN.source)
    expect(schema.$defs.secret.pattern).toBe(SECRET_PATTERN.source)
    expect(schema.$defs.key.pattern).toBe(KEY_PATTERN.source)
    expect(schema.$defs.dateTimeOrNull.oneOf[0].pattern).toBe(DATE_TIME_PATTERN.source)
  })

  const at = (patch: (d: any) => void) => {
    const d: any = exampleDocument()
    patch(d)
    return d
  }
  const cases: Array<[string, unknown]> = [
    ['the example', exampleDocument()],
    ['an empty document', {}],
    ['a $schema member', { $schema: './import.schema.json' }],
    ['an unknown top-level array', { organizations: [] }],
    ['an unknown field', at((d) => (d.units[0].code = 'x'))],
    ['a missing field', at((d) => delete d.users[0].units)],
    ['a blank name', at((d) => (d.units[0].name = ' '))],
    ['a name with a trailing space', at((d) => (d.units[0].id = '1 '))],
    ['a name with a control character', at((d) => (d.units[0].name = 'a\u0007b'))],
    ['a name of 513 characters', at((d) => (d.organisations[0].name = 'n'.repeat(513)))],
    ['a name of 512 characters', at((d) => (d.organisations[0].name = 'n'.repeat(512)))],
    ['a number for a string', at((d) => (d.consumers[0].contact_information_id = 42))],
    ['a key with a colon', at((d) => (d.web_api_keys[0].key = 'EE73C0AE64524371:B5DDEFF5F7BB2192'))],
    ['a 16-character key', at((d) => (d.web_api_keys[0].key = 'ABCDEFGHIJKLMNOP'))],
    ['a bad classification', at((d) => (d.web_api_keys[0].classification = 'CONSUMER'))],
    ['a bad state', at((d) => (d.access_tokens[0].state = 'ACTIVE'))],
    ['a date without offset', at((d) => (d.access_tokens[1].valid_from = '2026-01-01T00:00:00'))],
    ['a date with fractions and offset', at((d) => (d.access_tokens[1].valid_from = '2026-01-01T00:00:00.123+02:00'))],
    ['null valid_from', at((d) => (d.access_tokens[1].valid_from = null))],
    ['code and identifier', at((d) => (d.access_tokens[0].identifier = 'x'))],
    ['code and pass code', at((d) => (d.access_tokens[0].pass_code = 'x'))],
    ['identifier without pass code', at((d) => delete d.access_tokens[1].pass_code)],
    ['no credential', at((d) => delete d.access_tokens[0].authentication_code)],
    ['a blank pass code', at((d) => (d.access_tokens[1].pass_code = '  '))],
    ['a public JWK', at((d) => d.identity_providers[0].jwks.keys.push({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', kid: 'k1' }))],
    ['a private JWK', at((d) => d.identity_providers[0].jwks.keys.push({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }))],
    ['a symmetric JWK', at((d) => d.identity_providers[0].jwks.keys.push({ kty: 'oct', k: 'c' }))],
    ['a JWKS member besides keys', at((d) => (d.identity_providers[0].jwks.extra = 1))],
    ['null for an array', { units: null }],
  ]
  it.each(cases)('agrees with the codec on %s', async (_name, doc) => {
    expect(validate(doc)).toBe(await codecAccepts(doc))
  })
})
