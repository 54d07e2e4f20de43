/**
 * @module import-checks
 * The whole-document checks of a decoded import document, run before anything is written, driven by the entry table
 * (entries.ts): for every entry, in file order, its references resolve in the file or the store, then its kind's own
 * rules hold (one credential per access token, a key stays with its user), then its natural key is not one of an
 * earlier entry of the file. Reads the store, writes nothing; every problem is collected.
 */
import type { SecretDigest } from '../../core/index.js'
import { entryNames, entryRow, type EntryName, type NaturalKey, type ReferenceLookups, type Reference } from './entries.js'
import type { ImportDocument, ImportIssue } from './import-document.js'

const q = (s: string) => JSON.stringify(s)
const join = (values: ReadonlyArray<string>) => values.join('\u0000')
const nowhere = 'in this file or the store'

/** A memo of answers by key, so that a large file asks the store each question once. */
const memo = <A>(f: (key: string) => A) => {
  const seen = new Map<string, A>()
  return (key: string): A => {
    if (!seen.has(key)) seen.set(key, f(key))
    return seen.get(key)!
  }
}

/** Remembers the first entry under each key and answers it for later ones (their duplicates). */
const firstSeen = () => {
  const first = new Map<string, number>()
  return (key: string, index: number): number | undefined => {
    const f = first.get(key)
    if (f === undefined) first.set(key, index)
    return f
  }
}

type Entry = Readonly<Record<string, unknown>>
const listOf = (doc: ImportDocument, name: EntryName): ReadonlyArray<Entry> => (doc[name] ?? []) as ReadonlyArray<Entry>
/** ` in organisation "ps_dev"`: the fields of a natural key before its last, which scope it. */
const scope = (fields: ReadonlyArray<string>, values: ReadonlyArray<string>) =>
  fields.map((f, i) => ` in ${f} ${q(values[i]!)}`).join('')

/**
 * Every reference, natural-key and rule of a decoded document, checked against the document and the store.
 * `digest` is needed to recognise keys and codes (duplicates, a key that already belongs to someone else).
 */
export const checkImportDocument = async (
  doc: ImportDocument,
  store: ReferenceLookups,
  digest: SecretDigest,
): Promise<ReadonlyArray<ImportIssue>> => {
  const issues: ImportIssue[] = []
  const digestOf = memo((s) => digest.digest(s))

  /** Whether an entry of a kind that is referred to exists: in the file (by natural key), else in the store. */
  const lookups = new Map<EntryName, { inFile: Set<string>; inStore: (key: string) => Promise<boolean> }>()
  const exists = async (name: EntryName, key: ReadonlyArray<string>) => {
    let l = lookups.get(name)
    if (l === undefined) {
      const row = entryRow(name)
      const ask = row.inStore!(store)
      const inFile = new Set(listOf(doc, name).map((e) => join(row.keys[0]!.fields.map((f) => e[f] as string))))
      lookups.set(name, (l = { inFile, inStore: memo((k) => ask(k.split('\u0000'))) }))
    }
    return l.inFile.has(join(key)) || (await l.inStore(join(key)))
  }

  /** Checks one reference of entry `i`; answers whether it resolves. */
  const checkReference = async (name: EntryName, i: number, entry: Entry, ref: Reference): Promise<boolean> => {
    const target = entryRow(ref.to)
    const targetKey = target.keys[0]!.fields
    const field = ref.by[ref.by.length - 1]!
    const scoping = ref.by.slice(0, -1).map((f) => entry[f] as string)
    const missing = (value: string) =>
      `no ${target.singular}${target.namesKey ? ` with ${targetKey[targetKey.length - 1]}` : ''} ${q(value)}` +
      `${scope(targetKey.slice(0, -1), scoping)} ${nowhere}`
    const last = entry[field]
    if (last === undefined) return true
    if (!Array.isArray(last)) {
      if (await exists(ref.to, [...scoping, last as string])) return true
      issues.push({ path: [name, i, field], message: missing(last as string) })
      return false
    }
    let resolves = true
    const seen = firstSeen()
    for (const [j, value] of (last as ReadonlyArray<string>).entries()) {
      const g = seen(value, j)
      if (g !== undefined) issues.push({ path: [name, i, field, j], message: `duplicates ${field}[${g}] of this ${entryRow(name).singular}` })
      else if (!(await exists(ref.to, [...scoping, value]))) {
        issues.push({ path: [name, i, field, j], message: missing(value) })
        resolves = false
      }
    }
    return resolves
  }

  /** The duplicate message of entry `i` under `key`, when an earlier entry has the same values. */
  const duplicate = (name: EntryName, i: number, key: NaturalKey, values: ReadonlyArray<string>, first: number): ImportIssue => ({
    path: [name, i, key.at ?? key.fields[key.fields.length - 1]!],
    message: key.sameAs !== undefined
      ? `is the same ${key.sameAs} as ${name}[${first}]${scope(key.fields.slice(0, -1), values)}`
      : `duplicates ${name}[${first}] (${key.fields.map((f, k) => `${f} ${q(values[k]!)}`).join(', ')})`,
  })

  for (const name of entryNames) {
    const row = entryRow(name)
    const seen = row.keys.map(() => firstSeen())
    for (const [i, entry] of listOf(doc, name).entries()) {
      const failed: Reference[] = []
      for (const ref of row.references) {
        if (failed.some((f) => f.by.every((b) => ref.by.includes(b)))) continue
        if (!(await checkReference(name, i, entry, ref))) failed.push(ref)
      }
      for (const [field, message] of (await row.rules?.(entry, { store, digest: digestOf })) ?? []) issues.push({ path: [name, i, field], message })

      const k = row.keys.findIndex((key) => key.fields.every((f) => entry[f] !== undefined))
      if (k < 0) continue
      const key = row.keys[k]!
      const values = key.fields.map((f) => entry[f] as string)
      // A secret is compared by its digest: the clear text is not kept, and never quoted.
      const compared = key.sameAs === undefined ? values : [...values.slice(0, -1), digestOf(values[values.length - 1]!)]
      const first = seen[k]!(join(compared), i)
      if (first !== undefined) issues.push(duplicate(name, i, key, values, first))
    }
  }
  return issues
}
