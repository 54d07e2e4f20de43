/**
 * The entry table (adapters/provisioning/entries.ts) holds together: every field of every codec has a flag or is made
 * by the command, every reference names a kind that can be looked up, with one field for each field of its natural
 * key, every natural key is made of the codec's fields, a secret key field is compared by digest, and the table, the
 * document codec and import.schema.json name the same entries and fields. The checks it drives report, for each
 * entry, its references first, then its own rules, then its duplicate.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { entries, entryNames, entryRow, fieldCodec, isMade, type EntryRow } from '../../adapters/provisioning/entries.js'
import { KeyText, Secret } from '../../adapters/provisioning/import-codecs.js'
import { ImportDocument } from '../../adapters/provisioning/import-document.js'
import { importDocument } from '../../adapters/provisioning/import.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { fakeDeps } from './fakes.js'
import { EXAMPLE_CODE, EXAMPLE_KEY, exampleDocument } from '../support/example.js'

const rows = entryNames.map((name) => [name, entryRow(name)] as const)
const fieldsOf = (row: EntryRow) => [...Object.keys(row.codec.required), ...Object.keys(row.codec.optional)]

describe('the entry table', () => {
  it('has one row per entry kind, and the document one array per row', () => {
    expect(Object.keys(entries)).toEqual([...entryNames])
    expect(Object.keys(ImportDocument.optional)).toEqual(['$schema', ...entryNames])
    expect(new Set(rows.map(([, r]) => r.noun)).size).toBe(rows.length)
  })

  it.each(rows)('%s: every field of the codec has a flag or is made by the command, and nothing else does', (_, row) => {
    expect(Object.keys(row.fields).sort()).toEqual(fieldsOf(row).sort())
    for (const [field, spec] of Object.entries(row.fields)) {
      if (isMade(spec)) expect(fieldCodec(row, field).is(spec.make()), field).toBe(true)
      else {
        expect(spec.help, field).not.toBe('')
        if (spec.default !== undefined) expect(fieldCodec(row, field).is(spec.default), field).toBe(true)
        // A JSON object is read from a file, which errors call by name; nothing else is.
        expect(spec.file !== undefined, field).toBe('required' in fieldCodec(row, field))
      }
    }
  })

  it.each(rows)('%s: the help of a field with a few values names each of them', (_, row) => {
    for (const [field, spec] of Object.entries(row.fields)) {
      const codec = fieldCodec(row, field)
      if (!(codec instanceof t.KeyofType) || isMade(spec)) continue
      for (const value of Object.keys(codec.keys)) expect(spec.help, field).toContain(value)
    }
  })

  it.each(rows)('%s: every natural key is made of its fields; a secret one is compared by digest', (_, row) => {
    expect(row.keys.length).toBeGreaterThan(0)
    for (const key of row.keys) {
      for (const f of key.fields) expect(fieldsOf(row)).toContain(f)
      if (key.at !== undefined) expect(key.fields).toContain(key.at)
      const last = fieldCodec(row, key.fields[key.fields.length - 1]!)
      expect(key.sameAs !== undefined, key.fields.join()).toBe(last === Secret || last === KeyText)
      // Only the last field of a key may be a secret: the others are quoted in messages.
      for (const f of key.fields.slice(0, -1)) expect(fieldCodec(row, f)).not.toBeOneOf([Secret, KeyText])
    }
  })

  it.each(rows)('%s: every reference names an entry kind that can be looked up, by one field per field of its key', (_, row) => {
    for (const ref of row.references) {
      expect(entryNames).toContain(ref.to)
      const target = entryRow(ref.to)
      expect(target.inStore, ref.to).toBeDefined()
      expect(target.keys).toHaveLength(1)
      expect(ref.by).toHaveLength(target.keys[0]!.fields.length)
      for (const f of ref.by) expect(fieldsOf(row)).toContain(f)
      // Only the last may be optional or a list; the fields before it scope it and are always given.
      for (const f of ref.by.slice(0, -1)) {
        expect(Object.keys(row.codec.required)).toContain(f)
        expect(fieldCodec(row, f)).not.toBeInstanceOf(t.ArrayType)
      }
    }
  })

  it('agrees with import.schema.json on the entries, their fields and which are mandatory', () => {
    const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../import.schema.json', import.meta.url)), 'utf8'))
    expect(Object.keys(schema.properties).filter((k) => k !== '$schema')).toEqual([...entryNames])
    for (const [name, row] of rows) {
      const ref: string = schema.properties[name].items.$ref
      const def = schema.$defs[ref.replace('#/$defs/', '')]
      expect(Object.keys(def.properties).sort(), name).toEqual(fieldsOf(row).sort())
      expect([...def.required].sort(), name).toEqual(Object.keys(row.codec.required).sort())
    }
  })
})

describe('the checks the table drives', () => {
  const problems = async (doc: unknown) => {
    const r = await importDocument(new MemoryStore(), doc, fakeDeps())
    return E.isLeft(r) ? r.left : []
  }

  it('report, for each entry, its references, then its rules, then its duplicate', async () => {
    const doc = exampleDocument()
    doc.users.push({ organisation: 'ps_dev', username: 'maytemplate', default_unit: '7', units: ['1', '1'] })
    doc.web_api_keys.push({ ...doc.web_api_keys[0]!, user: 'nobody' })
    doc.access_tokens.push({ ...doc.access_tokens[0]!, accounts_receivable_id: 'nobody', pass_code: 'x' } as never)
    expect(await problems(doc)).toEqual([
      'users[1].default_unit: no unit "7" in organisation "ps_dev" in this file or the store',
      'users[1].units[1]: duplicates units[0] of this user',
      'users[1].username: duplicates users[0] (organisation "ps_dev", username "maytemplate")',
      'web_api_keys[1].user: no user "nobody" in organisation "ps_dev" in this file or the store',
      'web_api_keys[1].key: is the same key as web_api_keys[0]',
      'access_tokens[2].accounts_receivable_id: no consumer with accounts_receivable_id "nobody" in organisation "ps_dev" in this file or the store',
      'access_tokens[2].pass_code: is not applicable with authentication_code',
      'access_tokens[2].authentication_code: is the same code as access_tokens[0] in organisation "ps_dev"',
    ])
  })

  it('skip a reference when one over fewer of its fields did not resolve', async () => {
    const doc = exampleDocument()
    doc.identity_links[0]!.organisation = 'nowhere'
    doc.users[0]!.organisation = 'nowhere'
    expect(await problems({ users: doc.users, identity_links: doc.identity_links, identity_providers: doc.identity_providers })).toEqual([
      'users[0].organisation: no organisation "nowhere" in this file or the store',
      'identity_links[0].organisation: no organisation "nowhere" in this file or the store',
    ])
  })

  it('report duplicate natural keys of every kind, a secret one without quoting it', async () => {
    const doc = exampleDocument() as unknown as Record<string, unknown[]>
    for (const name of entryNames) doc[name] = [...doc[name]!, doc[name]![doc[name]!.length - 1]]
    const found = await problems(doc)
    for (const name of entryNames) expect(found.some((p) => p.startsWith(`${name}[`) && /duplicates|is the same/.test(p)), name).toBe(true)
    expect(found.join('\n')).not.toContain(EXAMPLE_KEY)
    expect(found.join('\n')).not.toContain(EXAMPLE_CODE)
  })
})
