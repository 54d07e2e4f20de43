/**
 * @module import
 * Imports a provisioning document (README.md, the command line) into a store: the whole document is decoded and checked first (a bad file
 * writes nothing and every problem names its entry and field); then keys and authentication codes are digested and
 * pass codes hashed, outside any transaction; then everything is upserted by natural keys inside one transaction.
 * Importing the same file twice leaves the same rows: access-token ids are derived from natural keys (ids.ts), a key
 * keeps its creation time, and a pass code that still verifies against the stored hash keeps that hash.
 *
 * Clear-text secrets exist only in the document the caller passed: never in the summary, the issues or a log.
 */
import * as E from 'fp-ts/lib/Either.js'
import {
  keyPrefix, type AccessToken, type Clock, type Consumer, type IdentityLink, type IdentityProvider, type Organisation, type PassCodeHasher,
  type SecretDigest, type Unit, type User,
} from '../../core/index.js'
import type { Store, StoredKey } from '../store/store.js'
import { accessTokenId } from './ids.js'
import { entryNames, type EntryName } from './entries.js'
import { checkImportDocument } from './import-checks.js'
import { parseDateTime } from './import-codecs.js'
import { decodeImportDocument, formatIssue, type ImportDocument, type ImportIssue } from './import-document.js'

export interface ImportDeps {
  readonly digest: SecretDigest
  readonly hasher: PassCodeHasher
  readonly clock: Clock
}

export interface EntryCount {
  readonly created: number
  readonly updated: number
}

/** What an import did, by entry. Holds no secret. */
export type ImportSummary = { readonly [K in EntryName]: EntryCount } & {
  /** The ids of the imported access tokens, in file order (for `access-tokens suspend ID`). */
  readonly accessTokenIds: ReadonlyArray<string>
  /** The digests of the imported keys, in file order (for `keys revoke DIGEST`). */
  readonly keyDigests: ReadonlyArray<string>
  /** Changes worth a second look, e.g. a revoked key made active again by the file. */
  readonly notes: ReadonlyArray<string>
}

/** The document with every secret replaced by what is stored: digests, hashes, derived ids. */
interface Prepared {
  readonly organisations: ReadonlyArray<Organisation>
  readonly units: ReadonlyArray<Unit>
  readonly users: ReadonlyArray<User>
  readonly keys: ReadonlyArray<Omit<StoredKey, 'createdAt' | 'lastUsedAt'>>
  readonly consumers: ReadonlyArray<Consumer>
  readonly accessTokens: ReadonlyArray<AccessToken>
  readonly providers: ReadonlyArray<IdentityProvider>
  readonly links: ReadonlyArray<IdentityLink>
}

const seconds = (iso: string | null | undefined): number | undefined => {
  if (iso == null) return undefined
  const r = parseDateTime(iso)
  return E.isRight(r) ? r.right : undefined
}

/** Digests, hashes and ids; reuses a stored pass-code hash that still verifies, so that a re-import changes nothing. */
const prepare = async (doc: ImportDocument, store: Store, deps: ImportDeps): Promise<Prepared> => {
  const consumerOf = new Map((doc.consumers ?? []).map((c) => [`${c.organisation}\u0000${c.accounts_receivable_id}`, c]))
  const accessTokens: AccessToken[] = []
  for (const a of doc.access_tokens ?? []) {
    const consumer: Consumer = await (async () => {
      const inFile = consumerOf.get(`${a.organisation}\u0000${a.accounts_receivable_id}`)
      if (inFile) return { organisation: inFile.organisation, contactInformationId: inFile.contact_information_id, accountsReceivableId: inFile.accounts_receivable_id }
      const stored = await store.findConsumerByAccountsReceivable(a.organisation, a.accounts_receivable_id)
      if (!stored) throw new Error(`consumer ${a.accounts_receivable_id} vanished during the import`)
      return stored
    })()
    const validFrom = seconds(a.valid_from)
    const validTo = seconds(a.valid_to)
    const common = {
      organisation: a.organisation,
      consumer,
      state: a.state,
      ...(validFrom === undefined ? {} : { validFrom }),
      ...(validTo === undefined ? {} : { validTo }),
    }
    if (a.authentication_code !== undefined) {
      const codeDigest = deps.digest.digest(a.authentication_code)
      accessTokens.push({ id: accessTokenId(a.organisation, { codeDigest }), authenticationCodeDigest: codeDigest, ...common })
    } else {
      const identifier = a.identifier!
      const passCode = a.pass_code!
      const id = accessTokenId(a.organisation, { identifier })
      const stored = (await store.findAccessToken(id))?.passCodeHash
      const passCodeHash = stored !== undefined && (await deps.hasher.verify(passCode, stored).catch(() => false))
        ? stored
        : await deps.hasher.hash(passCode)
      accessTokens.push({ id, identifier, passCodeHash, ...common })
    }
  }
  return {
    organisations: (doc.organisations ?? []).map((o) => ({ id: o.id, name: o.name, consumerUser: o.consumer_user })),
    units: doc.units ?? [],
    users: (doc.users ?? []).map((u) => ({
      organisation: u.organisation,
      username: u.username,
      units: u.units,
      ...(u.default_unit === undefined ? {} : { defaultUnit: u.default_unit }),
    })),
    keys: (doc.web_api_keys ?? []).map((k) => ({
      digest: deps.digest.digest(k.key),
      prefix: keyPrefix(k.key),
      organisation: k.organisation,
      user: k.user,
      classification: k.classification,
      status: k.status,
    })),
    consumers: (doc.consumers ?? []).map((c) => ({
      organisation: c.organisation, contactInformationId: c.contact_information_id, accountsReceivableId: c.accounts_receivable_id,
    })),
    accessTokens,
    providers: (doc.identity_providers ?? []).map((p) => ({ issuer: p.issuer, audience: p.audience, jwks: { keys: p.jwks.keys } })),
    links: (doc.identity_links ?? []).map((l) => ({
      issuer: l.issuer, subject: l.subject, organisation: l.organisation, accountsReceivableId: l.accounts_receivable_id,
    })),
  }
}

const k2 = (a: string, b: string) => `${a}\u0000${b}`

/** Upserts every row inside one transaction; answers created/updated counts and notes. */
const write = (store: Store, p: Prepared, now: number): Promise<ImportSummary> =>
  store.transaction(async (tx) => {
    const notes: string[] = []
    const count = { created: 0, updated: 0 }
    const counts = Object.fromEntries(entryNames.map((n) => [n, { ...count }])) as Record<EntryName, { created: number; updated: number }>
    const tally = (entry: EntryName, existed: boolean) => void (existed ? counts[entry].updated++ : counts[entry].created++)
    const ids = <A>(xs: ReadonlyArray<A>, key: (a: A) => string) => new Set(xs.map(key))

    const orgs = ids(await tx.listOrganisations(), (o) => o.id)
    for (const o of p.organisations) {
      tally('organisations', orgs.has(o.id))
      await tx.upsertOrganisation(o)
    }
    const units = ids(await tx.listUnits(), (u) => k2(u.organisation, u.id))
    for (const u of p.units) {
      tally('units', units.has(k2(u.organisation, u.id)))
      await tx.upsertUnit(u)
    }
    for (const u of p.users) {
      tally('users', (await tx.findUser(u.organisation, u.username)) !== undefined)
      await tx.upsertUser(u)
    }
    const keys = new Map((await tx.listKeys()).map((k) => [k.digest, k]))
    for (const k of p.keys) {
      const existing = keys.get(k.digest)
      tally('web_api_keys', existing !== undefined)
      if (existing && existing.status !== k.status) notes.push(`key ${k.prefix}…: status ${existing.status} -> ${k.status}`)
      await tx.upsertKey({
        ...k,
        createdAt: existing?.createdAt ?? now,
        ...(existing?.lastUsedAt === undefined ? {} : { lastUsedAt: existing.lastUsedAt }),
      })
    }
    for (const c of p.consumers) {
      tally('consumers', (await tx.findConsumerByAccountsReceivable(c.organisation, c.accountsReceivableId)) !== undefined)
      await tx.upsertConsumer(c)
    }
    for (const a of p.accessTokens) {
      const existing = await tx.findAccessToken(a.id)
      tally('access_tokens', existing !== undefined)
      if (existing && existing.state !== a.state) notes.push(`access token ${a.id}: state ${existing.state} -> ${a.state}`)
      await tx.upsertAccessToken(a)
    }
    const providers = ids(await tx.listIdentityProviders(), (x) => x.issuer)
    for (const x of p.providers) {
      tally('identity_providers', providers.has(x.issuer))
      await tx.upsertIdentityProvider(x)
    }
    const links = ids(await tx.listIdentityLinks(), (l) => `${l.issuer}\u0000${l.subject}\u0000${l.organisation}`)
    for (const l of p.links) {
      tally('identity_links', links.has(`${l.issuer}\u0000${l.subject}\u0000${l.organisation}`))
      await tx.upsertIdentityLink(l)
    }
    return {
      ...counts,
      accessTokenIds: p.accessTokens.map((a) => a.id),
      keyDigests: p.keys.map((k) => k.digest),
      notes,
    }
  })

/**
 * Checks a document as a whole and, only when it has no problem, writes it in one transaction. Left: every problem
 * found, each naming its entry and field. A store failure rejects the promise (and writes nothing).
 */
export const importDocumentChecked = async (
  store: Store,
  doc: unknown,
  deps: ImportDeps,
): Promise<E.Either<ReadonlyArray<ImportIssue>, ImportSummary>> => {
  const decoded = decodeImportDocument(doc)
  if (E.isLeft(decoded)) return decoded
  const issues = await checkImportDocument(decoded.right, store, deps.digest)
  if (issues.length > 0) return E.left(issues)
  const prepared = await prepare(decoded.right, store, deps)
  return E.right(await write(store, prepared, deps.clock.nowSeconds()))
}

/** {@link importDocumentChecked} with the problems as text: `access_tokens[1].pass_code: is mandatory when identifier is given`. */
export const importDocument = async (
  store: Store,
  doc: unknown,
  deps: ImportDeps,
): Promise<E.Either<string[], ImportSummary>> => E.mapLeft((issues: ReadonlyArray<ImportIssue>) => issues.map(formatIssue))(await importDocumentChecked(store, doc, deps))

/** One line per entry that the import touched, e.g. `organisations: 1 created, 0 updated`. */
export const describeSummary = (s: ImportSummary): string[] => [
  ...entryNames.filter((n) => s[n].created + s[n].updated > 0).map((n) => `${n}: ${s[n].created} created, ${s[n].updated} updated`),
  ...s.notes.map((n) => `note: ${n}`),
]
