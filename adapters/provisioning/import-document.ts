/**
 * @module import-document
 * The import file (import.schema.json): its io-ts codec (every array optional, unknown fields rejected) and the whole-document
 * checks that run before anything is written (references resolve in the file or the store, no duplicates, exactly one
 * credential per access token). Every problem is an {@link ImportIssue} naming the entry and field at fault, e.g.
 * `access_tokens[1].pass_code: is mandatory when identifier is given`; all of them are collected, not just the first.
 *
 * `import.schema.json` at the repository root is the same contract as JSON Schema; a test holds the two together.
 * Messages never quote a secret (key, authentication code, pass code).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { formatPath, isPlainObject, object, problemsOf, refinement, text, type CodecProblem } from '../../core/codec.js'
import {
  accessTokenStates, keyClassifications, keyStatuses, MAX_PARAMETER_LENGTH, nearestName, type SecretDigest,
} from '../../core/index.js'
import type { Store } from '../store/store.js'

// ---------------------------------------------------------------------------------------------------------------
// Issues

/** One problem with an import document: where (entry, index, field...) and what. */
export type ImportIssue = CodecProblem

export { formatPath }

/** `access_tokens[1].pass_code: is mandatory when identifier is given` */
export const formatIssue = (issue: ImportIssue): string =>
  issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`

const issue = (path: ReadonlyArray<string | number>, message: string): ImportIssue => ({ path, message })

// ---------------------------------------------------------------------------------------------------------------
// Scalars. The patterns are also those of import.schema.json (a test compares them); they use the `u` flag, as
// JSON Schema validators do, so that lengths count code points in both.

/** Names and ids: not blank, no control characters, no leading or trailing whitespace. */
export const NAME_PATTERN = /^[^\s\u0000-\u001F\u007F](?:[^\u0000-\u001F\u007F]*[^\s\u0000-\u001F\u007F])?$/u
/** Secrets (authentication codes, pass codes): anything but blank. */
export const SECRET_PATTERN = /\S/u
/** Web API keys: 16 to 512 printable characters without whitespace or `:` (they travel as the Basic-auth user). */
export const KEY_PATTERN = new RegExp(`^[^\\s:\\u0000-\\u001F\\u007F]{16,${MAX_PARAMETER_LENGTH}}$`, 'u')
/** RFC 3339 date-time with an explicit offset, e.g. 2026-01-01T00:00:00Z. */
export const DATE_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/u

const MAX = MAX_PARAMETER_LENGTH
const length = (s: string) => [...s].length

const common = (s: string): string | undefined =>
  s.trim() === '' ? 'must not be empty or only whitespace' : length(s) > MAX ? `must be at most ${MAX} characters long` : undefined

export const Name = text('Name', (s) =>
  common(s) ?? (NAME_PATTERN.test(s) ? undefined : 'must not contain control characters nor begin or end with whitespace'))

export const Secret = text('Secret', common)

export const KeyText = text('WebApiKey', (s) =>
  KEY_PATTERN.test(s) ? undefined : `must be 16 to ${MAX} characters without whitespace, control characters or ":"`)

/** Seconds since the epoch of an RFC 3339 date-time, or a reason why it is not one. */
export const parseDateTime = (s: string): E.Either<string, number> => {
  const m = DATE_TIME_PATTERN.exec(s)
  const bad = E.left('must be an ISO-8601 date-time with an offset, e.g. 2026-01-01T00:00:00Z')
  if (!m) return bad
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12 || day < 1 || day > days) return E.left(`has no such day: ${s.slice(0, 10)}`)
  if (hour > 23 || minute > 59 || second > 59) return E.left(`has no such time of day: ${s.slice(11, 19)}`)
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return E.left('has an impossible offset')
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? bad : E.right(Math.floor(ms / 1000))
}

/** An RFC 3339 date-time, or null for an open bound. */
export const DateTimeOrNull = refinement<string | null>('DateTimeOrNull', (u) => {
  if (u === null) return undefined
  if (typeof u !== 'string') return 'must be an ISO-8601 date-time string or null'
  const r = parseDateTime(u)
  return E.isLeft(r) ? r.left : undefined
})

const oneOf = <L extends string>(values: ReadonlyArray<L>) =>
  t.keyof(Object.fromEntries(values.map((v) => [v, null])) as Record<L, null>, `one of ${values.join(', ')}`)

const list = <C extends t.Mixed>(codec: C) => t.array(codec, 'an array')

// ---------------------------------------------------------------------------------------------------------------
// A strict object: required and optional fields; every unknown field is an error, with the nearest known name.

const strict = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) =>
  object(name, required, optional, {
    notAnObject: 'must be an object',
    missing: 'is mandatory',
    unknownField: (k, known) => {
      const near = nearestName(k, known)
      return `is not a field of ${name}${near === undefined ? '' : ` (did you mean ${near}?)`}`
    },
  })

// ---------------------------------------------------------------------------------------------------------------
// The entries

/** Members of a private or symmetric JWK: an identity provider's JWKS holds public keys only (docs/behaviour.md, the method: authentication). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
export const JWK_KEY_TYPES = ['RSA', 'EC', 'OKP'] as const

export const PublicJwk = refinement<Record<string, unknown>>('PublicJwk', (u) => {
  if (!isPlainObject(u)) return 'must be a JWK object'
  if (!(JWK_KEY_TYPES as ReadonlyArray<unknown>).includes(u['kty'])) return `must have kty ${JWK_KEY_TYPES.join(', ')} (asymmetric public keys only)`
  const secret = PRIVATE_JWK_MEMBERS.find((m) => Object.prototype.hasOwnProperty.call(u, m))
  return secret === undefined ? undefined : `holds private key material ("${secret}"): give the public key only`
})

export const Jwks = strict('jwks', { keys: list(PublicJwk) }, {})

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

/** The import file. `$schema` may point editors at import.schema.json; it is otherwise ignored. */
export const ImportDocument = strict(
  'the import document',
  {},
  {
    $schema: t.string,
    organisations: list(OrganisationEntry),
    units: list(UnitEntry),
    users: list(UserEntry),
    web_api_keys: list(WebApiKeyEntry),
    consumers: list(ConsumerEntry),
    access_tokens: list(AccessTokenEntry),
    identity_providers: list(IdentityProviderEntry),
    identity_links: list(IdentityLinkEntry),
  },
)
export type ImportDocument = t.TypeOf<typeof ImportDocument>
export type OrganisationEntry = t.TypeOf<typeof OrganisationEntry>
export type UnitEntry = t.TypeOf<typeof UnitEntry>
export type UserEntry = t.TypeOf<typeof UserEntry>
export type WebApiKeyEntry = t.TypeOf<typeof WebApiKeyEntry>
export type ConsumerEntry = t.TypeOf<typeof ConsumerEntry>
export type AccessTokenEntry = t.TypeOf<typeof AccessTokenEntry>
export type IdentityProviderEntry = t.TypeOf<typeof IdentityProviderEntry>
export type IdentityLinkEntry = t.TypeOf<typeof IdentityLinkEntry>

export const entryNames = [
  'organisations', 'units', 'users', 'web_api_keys', 'consumers', 'access_tokens', 'identity_providers', 'identity_links',
] as const
export type EntryName = (typeof entryNames)[number]

/** Shape check of a whole document: every problem, by path. */
export const decodeImportDocument = (u: unknown): E.Either<ReadonlyArray<ImportIssue>, ImportDocument> =>
  E.mapLeft(problemsOf)(ImportDocument.decode(u))

// ---------------------------------------------------------------------------------------------------------------
// Whole-document checks: references, duplicates, credentials. Reads the store, writes nothing.

/** What the checks read from the store. */
export type ReferenceLookups = Pick<
  Store,
  'findOrganisation' | 'findUser' | 'listUnits' | 'findConsumerByAccountsReceivable' | 'listIdentityProviders' | 'findKeyByDigest'
>

const k2 = (a: string, b: string) => `${a}\u0000${b}`
const k3 = (a: string, b: string, c: string) => `${a}\u0000${b}\u0000${c}`
const q = (s: string) => JSON.stringify(s)

/** A memo of the store's answers, so that a large file asks each question once. */
const memo = <A>(f: (key: string) => Promise<A>) => {
  const seen = new Map<string, Promise<A>>()
  return (key: string): Promise<A> => {
    let p = seen.get(key)
    if (p === undefined) seen.set(key, (p = f(key)))
    return p
  }
}

/** Remembers the first entry under each key and reports later ones as duplicates of it. */
const firstSeen = () => {
  const first = new Map<string, number>()
  return (key: string, index: number): number | undefined => {
    const f = first.get(key)
    if (f === undefined) first.set(key, index)
    return f
  }
}

/**
 * Every reference, duplicate and credential rule of a decoded document, checked against the document and the store.
 * `digest` is needed to recognise keys and codes (duplicates, a key that already belongs to someone else).
 */
export const checkImportDocument = async (
  doc: ImportDocument,
  store: ReferenceLookups,
  digest: SecretDigest,
): Promise<ReadonlyArray<ImportIssue>> => {
  const issues: ImportIssue[] = []
  const organisations = doc.organisations ?? []
  const units = doc.units ?? []
  const users = doc.users ?? []
  const keys = doc.web_api_keys ?? []
  const consumers = doc.consumers ?? []
  const tokens = doc.access_tokens ?? []
  const providers = doc.identity_providers ?? []
  const links = doc.identity_links ?? []

  const orgInFile = new Set(organisations.map((o) => o.id))
  const unitInFile = new Set(units.map((u) => k2(u.organisation, u.id)))
  const userInFile = new Set(users.map((u) => k2(u.organisation, u.username)))
  const consumerInFile = new Set(consumers.map((c) => k2(c.organisation, c.accounts_receivable_id)))
  const providerInFile = new Set(providers.map((p) => p.issuer))

  const orgInStore = memo(async (id) => (await store.findOrganisation(id)) !== undefined)
  const unitsInStore = memo(async (org) => new Set((await store.listUnits(org)).map((u) => u.id)))
  const userInStore = memo(async (key) => {
    const [org, username] = key.split('\u0000') as [string, string]
    return (await store.findUser(org, username)) !== undefined
  })
  const consumerInStore = memo(async (key) => {
    const [org, ari] = key.split('\u0000') as [string, string]
    return (await store.findConsumerByAccountsReceivable(org, ari)) !== undefined
  })
  const providersInStore = memo(async () => new Set((await store.listIdentityProviders()).map((p) => p.issuer)))

  const orgExists = async (id: string) => orgInFile.has(id) || (await orgInStore(id))
  const unitExists = async (org: string, id: string) => unitInFile.has(k2(org, id)) || (await unitsInStore(org)).has(id)
  const userExists = async (org: string, username: string) => userInFile.has(k2(org, username)) || (await userInStore(k2(org, username)))
  const consumerExists = async (org: string, ari: string) => consumerInFile.has(k2(org, ari)) || (await consumerInStore(k2(org, ari)))
  const providerExists = async (issuer: string) => providerInFile.has(issuer) || (await providersInStore('')).has(issuer)

  const nowhere = 'in this file or the store'
  /** Checks the organisation reference of an entry; answers whether it resolves (so that inner checks can be skipped). */
  const checkOrganisation = async (entry: EntryName, i: number, org: string): Promise<boolean> => {
    if (await orgExists(org)) return true
    issues.push(issue([entry, i, 'organisation'], `no organisation ${q(org)} ${nowhere}`))
    return false
  }

  let dup = firstSeen()
  for (const [i, o] of organisations.entries()) {
    const f = dup(o.id, i)
    if (f !== undefined) issues.push(issue(['organisations', i, 'id'], `duplicates organisations[${f}] (id ${q(o.id)})`))
    if (!(await userExists(o.id, o.consumer_user))) {
      issues.push(issue(['organisations', i, 'consumer_user'], `no user ${q(o.consumer_user)} in organisation ${q(o.id)} ${nowhere}`))
    }
  }

  dup = firstSeen()
  for (const [i, u] of units.entries()) {
    await checkOrganisation('units', i, u.organisation)
    const f = dup(k2(u.organisation, u.id), i)
    if (f !== undefined) issues.push(issue(['units', i, 'id'], `duplicates units[${f}] (organisation ${q(u.organisation)}, id ${q(u.id)})`))
  }

  dup = firstSeen()
  for (const [i, u] of users.entries()) {
    const f = dup(k2(u.organisation, u.username), i)
    if (f !== undefined) issues.push(issue(['users', i, 'username'], `duplicates users[${f}] (organisation ${q(u.organisation)}, username ${q(u.username)})`))
    if (!(await checkOrganisation('users', i, u.organisation))) continue
    const noUnit = (unit: string) => `no unit ${q(unit)} in organisation ${q(u.organisation)} ${nowhere}`
    if (u.default_unit !== undefined && !(await unitExists(u.organisation, u.default_unit))) {
      issues.push(issue(['users', i, 'default_unit'], noUnit(u.default_unit)))
    }
    const seenUnit = firstSeen()
    for (const [j, unit] of u.units.entries()) {
      const g = seenUnit(unit, j)
      if (g !== undefined) issues.push(issue(['users', i, 'units', j], `duplicates units[${g}] of this user`))
      else if (!(await unitExists(u.organisation, unit))) issues.push(issue(['users', i, 'units', j], noUnit(unit)))
    }
  }

  dup = firstSeen()
  for (const [i, k] of keys.entries()) {
    const d = digest.digest(k.key)
    const f = dup(d, i)
    if (f !== undefined) issues.push(issue(['web_api_keys', i, 'key'], `is the same key as web_api_keys[${f}]`))
    if (await checkOrganisation('web_api_keys', i, k.organisation)) {
      if (!(await userExists(k.organisation, k.user))) {
        issues.push(issue(['web_api_keys', i, 'user'], `no user ${q(k.user)} in organisation ${q(k.organisation)} ${nowhere}`))
      }
    }
    const existing = await store.findKeyByDigest(d)
    if (existing !== undefined && (existing.organisation !== k.organisation || existing.user !== k.user)) {
      issues.push(issue(['web_api_keys', i, 'key'],
        `already exists for user ${q(existing.user)} of organisation ${q(existing.organisation)}; a key cannot be moved to another user`))
    }
  }

  dup = firstSeen()
  for (const [i, c] of consumers.entries()) {
    await checkOrganisation('consumers', i, c.organisation)
    const f = dup(k2(c.organisation, c.accounts_receivable_id), i)
    if (f !== undefined) {
      issues.push(issue(['consumers', i, 'accounts_receivable_id'],
        `duplicates consumers[${f}] (organisation ${q(c.organisation)}, accounts_receivable_id ${q(c.accounts_receivable_id)})`))
    }
  }

  dup = firstSeen()
  for (const [i, a] of tokens.entries()) {
    const at = (field: string) => ['access_tokens', i, field]
    if (await checkOrganisation('access_tokens', i, a.organisation)) {
      if (!(await consumerExists(a.organisation, a.accounts_receivable_id))) {
        issues.push(issue(at('accounts_receivable_id'),
          `no consumer with accounts_receivable_id ${q(a.accounts_receivable_id)} in organisation ${q(a.organisation)} ${nowhere}`))
      }
    }
    const code = a.authentication_code !== undefined
    const identifier = a.identifier !== undefined
    const passCode = a.pass_code !== undefined
    if (code && identifier) issues.push(issue(at('identifier'), 'is not applicable when authentication_code is given: give one of them'))
    else if (!code && !identifier) {
      issues.push(passCode
        ? issue(at('identifier'), 'is mandatory when pass_code is given')
        : issue(at('authentication_code'), 'is mandatory unless identifier and pass_code are given'))
    } else if (identifier && !passCode) issues.push(issue(at('pass_code'), 'is mandatory when identifier is given'))
    else if (code && passCode) issues.push(issue(at('pass_code'), 'is not applicable with authentication_code'))

    const from = a.valid_from == null ? undefined : parseDateTime(a.valid_from)
    const to = a.valid_to == null ? undefined : parseDateTime(a.valid_to)
    if (from && to && E.isRight(from) && E.isRight(to) && to.right <= from.right) issues.push(issue(at('valid_to'), 'must be later than valid_from'))

    if (a.authentication_code !== undefined) {
      const f = dup(k3(a.organisation, 'code', digest.digest(a.authentication_code)), i)
      if (f !== undefined) issues.push(issue(at('authentication_code'), `is the same code as access_tokens[${f}] in organisation ${q(a.organisation)}`))
    } else if (a.identifier !== undefined) {
      const f = dup(k3(a.organisation, 'identifier', a.identifier), i)
      if (f !== undefined) issues.push(issue(at('identifier'), `duplicates access_tokens[${f}] (organisation ${q(a.organisation)}, identifier ${q(a.identifier)})`))
    }
  }

  dup = firstSeen()
  for (const [i, p] of providers.entries()) {
    const f = dup(p.issuer, i)
    if (f !== undefined) issues.push(issue(['identity_providers', i, 'issuer'], `duplicates identity_providers[${f}] (issuer ${q(p.issuer)})`))
  }

  dup = firstSeen()
  for (const [i, l] of links.entries()) {
    const at = (field: string) => ['identity_links', i, field]
    if (!(await providerExists(l.issuer))) issues.push(issue(at('issuer'), `no identity provider with issuer ${q(l.issuer)} ${nowhere}`))
    if (await checkOrganisation('identity_links', i, l.organisation)) {
      if (!(await consumerExists(l.organisation, l.accounts_receivable_id))) {
        issues.push(issue(at('accounts_receivable_id'),
          `no consumer with accounts_receivable_id ${q(l.accounts_receivable_id)} in organisation ${q(l.organisation)} ${nowhere}`))
      }
    }
    const f = dup(k3(l.issuer, l.subject, l.organisation), i)
    if (f !== undefined) {
      issues.push(issue(at('subject'), `duplicates identity_links[${f}] (issuer ${q(l.issuer)}, subject ${q(l.subject)}, organisation ${q(l.organisation)})`))
    }
  }

  return issues
}
