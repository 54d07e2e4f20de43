/**
 * @module entries
 * The entry table: one row per kind of entry of the import document (organisations ... identity_links) with its
 * codec, the command-line flag of each of its fields (with help text), its natural key and its references. One table
 * drives the import document's codec (import-document.ts), the whole-document checks (import-checks.ts: natural keys
 * unique, references resolve in the file or the store) and the create and list commands (cli/provisioning-commands.ts),
 * so that the file, the checks and the command line cannot drift apart.
 */
import { randomBytes } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { accessTokenStates, keyClassifications, keyStatuses } from '../../core/index.js'
import type { Store } from '../store/store.js'
import { DateTimeOrNull, Jwks, KeyText, list, Name, oneOf, parseDateTime, Secret, strict, type Strict } from './import-codecs.js'

export const entryNames = [
  'organisations', 'units', 'users', 'web_api_keys', 'consumers', 'access_tokens', 'identity_providers', 'identity_links',
] as const
export type EntryName = (typeof entryNames)[number]

// ---------------------------------------------------------------------------------------------------------------
// The codecs of the entries (import.schema.json describes the same; a test holds the two together)

export const OrganisationEntry = strict('organisations', { id: Name, name: Name, consumer_user: Name }, {})
export const UnitEntry = strict('units', { organisation: Name, id: Name, name: Name }, {})
export const UserEntry = strict('users', { organisation: Name, username: Name, units: list(Name) }, { default_unit: Name })
export const WebApiKeyEntry = strict(
  'web_api_keys',
  { organisation: Name, user: Name, key: KeyText, classification: oneOf(keyClassifications), status: oneOf(keyStatuses) },
  {},
)
export const ConsumerEntry = strict('consumers', { organisation: Name, contact_information_id: Name, accounts_receivable_id: Name }, {})
export const AccessTokenEntry = strict(
  'access_tokens',
  { organisation: Name, accounts_receivable_id: Name, state: oneOf(accessTokenStates) },
  { authentication_code: Secret, identifier: Name, pass_code: Secret, valid_from: DateTimeOrNull, valid_to: DateTimeOrNull },
)
export const IdentityProviderEntry = strict('identity_providers', { issuer: Name, audience: Name, jwks: Jwks }, {})
export const IdentityLinkEntry = strict('identity_links', { issuer: Name, subject: Name, organisation: Name, accounts_receivable_id: Name }, {})

export type OrganisationEntry = t.TypeOf<typeof OrganisationEntry>
export type UnitEntry = t.TypeOf<typeof UnitEntry>
export type UserEntry = t.TypeOf<typeof UserEntry>
export type WebApiKeyEntry = t.TypeOf<typeof WebApiKeyEntry>
export type ConsumerEntry = t.TypeOf<typeof ConsumerEntry>
export type AccessTokenEntry = t.TypeOf<typeof AccessTokenEntry>
export type IdentityProviderEntry = t.TypeOf<typeof IdentityProviderEntry>
export type IdentityLinkEntry = t.TypeOf<typeof IdentityLinkEntry>

// ---------------------------------------------------------------------------------------------------------------
// The shape of a row

type AnyStrict = t.Mixed & Pick<Strict<t.Props, t.Props>, 'required' | 'optional'>
/** The field names of an entry codec. */
type FieldOf<C extends AnyStrict> = (keyof C['required'] | keyof C['optional']) & string

/**
 * A field given by a flag. The flag's name and kind follow from the codec (cli/provisioning-commands.ts): `--field-name`,
 * repeatable `--unit` for the list `units`, `--jwks-file FILE` for the JSON object `jwks` (read from `file`).
 */
export interface FlagSpec {
  readonly help: string
  /** Placeholder of the value in help, e.g. ID (default: the flag's name in capitals). */
  readonly value?: string
  /** The value when the flag is not given; help says so. */
  readonly default?: string
  /** For a JSON object field: what the file is called in errors, e.g. "the JWKS file". */
  readonly file?: string
}

/** A field the create command fills in itself, never a flag (a new key, the status of a new key). */
interface MadeField {
  readonly make: () => string
}

export type FieldSpec = FlagSpec | MadeField
export const isMade = (f: FieldSpec): f is MadeField => 'make' in f

/**
 * What identifies an entry among its kind: two entries with equal values of `fields` are duplicates, reported at
 * `at` (default: the last field). A secret last field (a key, a code) is compared by its digest, never quoted, and
 * its duplicate `is the same <sameAs> as ...`.
 */
export interface NaturalKey<F extends string = string> {
  readonly fields: ReadonlyArray<F>
  readonly at?: F
  readonly sameAs?: string
}

/**
 * A reference to an entry of kind `to`: this entry's fields `by`, one for each field of the target's natural key, in
 * its order. The last may be optional (no reference when absent) or a list (each element refers). A reference is
 * not checked when an earlier one of the same entry, over a subset of its fields, did not resolve.
 */
export interface Reference<F extends string = string> {
  readonly to: EntryName
  readonly by: ReadonlyArray<F>
}

/** What the checks read from the store. */
export type ReferenceLookups = Pick<
  Store,
  'findOrganisation' | 'findUser' | 'listUnits' | 'findConsumerByAccountsReceivable' | 'listIdentityProviders' | 'findKeyByDigest'
>

/** What a row's own rules may use: the store and the keyed digest of a secret. */
interface RuleContext {
  readonly store: ReferenceLookups
  readonly digest: (secret: string) => string
}

export interface EntryRow<C extends AnyStrict = AnyStrict> {
  readonly codec: C
  /** The command-line noun: `keys create`, `keys list`. */
  readonly noun: string
  /** One entry in messages: `no consumer with accounts_receivable_id "A1" ...`, `duplicates units[0] of this user`. */
  readonly singular: string
  /** Whether a reference names the natural key's last field (`no identity provider with issuer "..."`) or not (`no user "..."`). */
  readonly namesKey?: boolean
  /** Every field of the codec, in the order of the command's help. */
  readonly fields: { readonly [K in FieldOf<C>]-?: FieldSpec }
  /** The natural key; where there are several (an access token's code or identifier), the first whose fields are all given. */
  readonly keys: ReadonlyArray<NaturalKey<FieldOf<C>>>
  readonly references: ReadonlyArray<Reference<FieldOf<C>>>
  /** For a kind that is referred to: whether the store holds the entry with these natural-key values (asked once each). */
  readonly inStore?: (store: ReferenceLookups) => (key: ReadonlyArray<string>) => Promise<boolean>
  /** The kind's rules beyond keys and references: [field, message] for each problem. */
  readonly rules?: (entry: t.TypeOf<C>, context: RuleContext) => Promise<ReadonlyArray<readonly [FieldOf<C>, string]>>
}

const row = <C extends AnyStrict>(r: EntryRow<C>): EntryRow<C> => r
const q = (s: string) => JSON.stringify(s)
const organisation: FlagSpec = { value: 'ID', help: 'the organisation' }

/** A new Web API key: 128 random bits as 32 upper-case hex characters, like CRM.COM's documented example. */
const newWebApiKey = (): string => randomBytes(16).toString('hex').toUpperCase()

// ---------------------------------------------------------------------------------------------------------------
// The table

export const entries = {
  organisations: row({
    codec: OrganisationEntry, noun: 'organisations', singular: 'organisation',
    fields: {
      id: { help: 'the organisation id (the `org` claim)' },
      name: { help: 'its display name' },
      consumer_user: { value: 'USERNAME', help: 'the user that keyless and identity-JWT sessions run as' },
    },
    keys: [{ fields: ['id'] }],
    references: [{ to: 'users', by: ['id', 'consumer_user'] }],
    inStore: (store) => async ([id]) => (await store.findOrganisation(id!)) !== undefined,
  }),
  units: row({
    codec: UnitEntry, noun: 'units', singular: 'unit',
    fields: { organisation, id: { help: 'the unit id (the `oun` claim)' }, name: { help: 'its display name' } },
    keys: [{ fields: ['organisation', 'id'] }],
    references: [{ to: 'organisations', by: ['organisation'] }],
    inStore: (store) => {
      // One list per organisation rather than one question per unit: a file may name thousands of users.
      const byOrganisation = new Map<string, Promise<Set<string>>>()
      return async ([org, id]) => {
        let ids = byOrganisation.get(org!)
        if (ids === undefined) byOrganisation.set(org!, (ids = store.listUnits(org).then((us) => new Set(us.map((u) => u.id)))))
        return (await ids).has(id!)
      }
    },
  }),
  users: row({
    codec: UserEntry, noun: 'users', singular: 'user',
    fields: {
      organisation,
      username: { value: 'USERNAME', help: 'the username (the `usr` claim)' },
      default_unit: { value: 'UNIT', help: 'the unit sessions log in to when the request names none' },
      units: { value: 'UNIT', help: 'a unit the user belongs to' },
    },
    keys: [{ fields: ['organisation', 'username'] }],
    references: [
      { to: 'organisations', by: ['organisation'] },
      { to: 'units', by: ['organisation', 'default_unit'] },
      { to: 'units', by: ['organisation', 'units'] },
    ],
    inStore: (store) => async ([org, username]) => (await store.findUser(org!, username!)) !== undefined,
  }),
  web_api_keys: row({
    codec: WebApiKeyEntry, noun: 'keys', singular: 'key',
    fields: {
      organisation,
      user: { value: 'USERNAME', help: 'the user the key belongs to (the `usr` claim)' },
      key: { make: newWebApiKey },
      classification: { value: 'CLASS', help: keyClassifications.join(' or '), default: 'CONSUMER_APPLICATION_KEY' },
      status: { make: () => 'ACTIVE' },
    },
    keys: [{ fields: ['key'], sameAs: 'key' }],
    references: [{ to: 'organisations', by: ['organisation'] }, { to: 'users', by: ['organisation', 'user'] }],
    rules: async (k, { store, digest }) => {
      const existing = await store.findKeyByDigest(digest(k.key))
      return existing !== undefined && (existing.organisation !== k.organisation || existing.user !== k.user)
        ? [['key' as const, `already exists for user ${q(existing.user)} of organisation ${q(existing.organisation)}; a key cannot be moved to another user`]]
        : []
    },
  }),
  consumers: row({
    codec: ConsumerEntry, noun: 'consumers', singular: 'consumer', namesKey: true,
    fields: {
      organisation,
      contact_information_id: { value: 'ID', help: 'the `cii` claim' },
      accounts_receivable_id: { value: 'ID', help: 'the `ari` claim' },
    },
    keys: [{ fields: ['organisation', 'accounts_receivable_id'] }],
    references: [{ to: 'organisations', by: ['organisation'] }],
    inStore: (store) => async ([org, ari]) => (await store.findConsumerByAccountsReceivable(org!, ari!)) !== undefined,
  }),
  access_tokens: row({
    codec: AccessTokenEntry, noun: 'access-tokens', singular: 'access token',
    fields: {
      organisation,
      accounts_receivable_id: { value: 'ID', help: 'the consumer' },
      authentication_code: { value: 'CODE', help: 'the code (alone, or give --identifier and --pass-code)' },
      identifier: { help: 'the identifier (with --pass-code)' },
      pass_code: { value: 'CODE', help: 'the pass code of the identifier' },
      state: { help: accessTokenStates.join(', '), default: 'EFFECTIVE' },
      valid_from: { value: 'ISO', help: 'start of the validity window, e.g. 2026-01-01T00:00:00Z' },
      valid_to: { value: 'ISO', help: 'end of the validity window' },
    },
    keys: [{ fields: ['organisation', 'authentication_code'], sameAs: 'code' }, { fields: ['organisation', 'identifier'] }],
    references: [{ to: 'organisations', by: ['organisation'] }, { to: 'consumers', by: ['organisation', 'accounts_receivable_id'] }],
    rules: async (a) => [...credentialProblems(a), ...windowProblems(a)],
  }),
  identity_providers: row({
    codec: IdentityProviderEntry, noun: 'identity-providers', singular: 'identity provider', namesKey: true,
    fields: {
      issuer: { value: 'ISS', help: 'the `iss` of its tokens' },
      audience: { value: 'AUD', help: 'the `aud` its tokens must contain' },
      jwks: { value: 'FILE', file: 'the JWKS file', help: 'a JSON file with its public keys: {"keys": [...]}' },
    },
    keys: [{ fields: ['issuer'] }],
    references: [],
    inStore: (store) => {
      let issuers: Promise<Set<string>> | undefined
      return async ([issuer]) => (await (issuers ??= store.listIdentityProviders().then((ps) => new Set(ps.map((p) => p.issuer))))).has(issuer!)
    },
  }),
  identity_links: row({
    codec: IdentityLinkEntry, noun: 'identity-links', singular: 'identity link',
    fields: {
      issuer: { value: 'ISS', help: 'an identity provider\'s issuer' },
      subject: { value: 'SUB', help: 'the `sub` of the identity' },
      organisation,
      accounts_receivable_id: { value: 'ID', help: 'the consumer' },
    },
    keys: [{ fields: ['issuer', 'subject', 'organisation'], at: 'subject' }],
    references: [
      { to: 'identity_providers', by: ['issuer'] },
      { to: 'organisations', by: ['organisation'] },
      { to: 'consumers', by: ['organisation', 'accounts_receivable_id'] },
    ],
  }),
} satisfies { readonly [N in EntryName]: EntryRow<AnyStrict> }

export type Entries = typeof entries

/** The codec of one field of a row's entry. */
export const fieldCodec = (row: EntryRow, field: string): t.Mixed => (row.codec.required[field] ?? row.codec.optional[field])!

/** A row without its kind's own types, for code that treats every kind alike (the checks, the commands). */
export const entryRow = (name: EntryName): EntryRow => entries[name] as unknown as EntryRow
/** The decoded entry of a kind. */
export type EntryOf<N extends EntryName> = t.TypeOf<Entries[N]['codec']>

// ---------------------------------------------------------------------------------------------------------------
// The access-token rules: exactly one credential, and a validity window that is not empty.

type Problems = ReadonlyArray<readonly [FieldOf<typeof AccessTokenEntry>, string]>

const credentialProblems = (a: AccessTokenEntry): Problems => {
  const code = a.authentication_code !== undefined
  const identifier = a.identifier !== undefined
  const passCode = a.pass_code !== undefined
  if (code && identifier) return [['identifier', 'is not applicable when authentication_code is given: give one of them']]
  if (!code && !identifier) {
    return passCode
      ? [['identifier', 'is mandatory when pass_code is given']]
      : [['authentication_code', 'is mandatory unless identifier and pass_code are given']]
  }
  if (identifier && !passCode) return [['pass_code', 'is mandatory when identifier is given']]
  if (code && passCode) return [['pass_code', 'is not applicable with authentication_code']]
  return []
}

const windowProblems = (a: AccessTokenEntry): Problems => {
  const from = a.valid_from == null ? undefined : parseDateTime(a.valid_from)
  const to = a.valid_to == null ? undefined : parseDateTime(a.valid_to)
  return from && to && E.isRight(from) && E.isRight(to) && to.right <= from.right ? [['valid_to', 'must be later than valid_from']] : []
}
