/**
 * @module rows
 * The rows the SQL store reads and the values of the store contract they make (adapters/store/store.ts): one mapping
 * per table, used by the request path and the listings alike.
 */
import type { Selectable } from 'kysely'
import type {
  AccessToken, AccessTokenState, Consumer, IdentityLink, IdentityProvider, KeyClassification, KeyStatus, Organisation, Unit, User,
} from '../../../core/index.js'
import type { AttemptCount, StoredKey } from '../store.js'
import type {
  AccessTokensTable, AttemptCountersTable, ConsumersTable, IdentityLinksTable, IdentityProvidersTable, OrganisationsTable, UnitsTable,
  WebApiKeysTable,
} from './schema.js'

export type AccessTokenRow = Selectable<AccessTokensTable> & Pick<ConsumersTable, 'contact_information_id'>
/** A user with one of its units per row (unit null when it has none). */
export type UserRow = { organisation: string; username: string; default_unit: string | null; unit: string | null }
/** A key, its user (user_username null when the user does not exist) and one of the user's units per row. */
export type KeyWithUserRow = Selectable<WebApiKeysTable> & { user_username: string | null; default_unit: string | null; unit: string | null }

export const toOrganisation = (r: Selectable<OrganisationsTable>): Organisation => ({ id: r.id, name: r.name, consumerUser: r.consumer_user })
export const toUnit = (r: Selectable<UnitsTable>): Unit => ({ organisation: r.organisation, id: r.id, name: r.name })
export const toKey = (r: Selectable<WebApiKeysTable>): StoredKey => ({
  digest: r.digest,
  prefix: r.prefix,
  organisation: r.organisation,
  user: r.username,
  classification: r.classification as KeyClassification,
  status: r.status as KeyStatus,
  createdAt: r.created_at,
  ...(r.last_used_at !== null && { lastUsedAt: r.last_used_at }),
})
export const toConsumer = (r: Selectable<ConsumersTable>): Consumer => ({
  organisation: r.organisation,
  contactInformationId: r.contact_information_id,
  accountsReceivableId: r.accounts_receivable_id,
})
/** A row's one credential (AccessToken's type holds the rule; the table does not). */
const credentialOf = (r: AccessTokenRow) => {
  if (r.authentication_code_digest !== null) return { authenticationCodeDigest: r.authentication_code_digest }
  if (r.identifier !== null && r.pass_code_hash !== null) return { identifier: r.identifier, passCodeHash: r.pass_code_hash }
  throw new Error(`access token ${r.id} holds neither an authentication code nor an identifier with a pass code`)
}
export const toAccessToken = (r: AccessTokenRow): AccessToken => ({
  id: r.id,
  organisation: r.organisation,
  consumer: { organisation: r.organisation, contactInformationId: r.contact_information_id, accountsReceivableId: r.accounts_receivable_id },
  ...credentialOf(r),
  state: r.state as AccessTokenState,
  ...(r.valid_from !== null && { validFrom: r.valid_from }),
  ...(r.valid_to !== null && { validTo: r.valid_to }),
})
export const toProvider = (r: Selectable<IdentityProvidersTable>): IdentityProvider => ({
  issuer: r.issuer,
  audience: r.audience,
  jwks: JSON.parse(r.jwks) as IdentityProvider['jwks'],
})
export const toLink = (r: Selectable<IdentityLinksTable>): IdentityLink => ({
  issuer: r.issuer,
  subject: r.subject,
  organisation: r.organisation,
  accountsReceivableId: r.accounts_receivable_id,
})
const toAttempts = (r: Selectable<AttemptCountersTable>): AttemptCount => ({ subject: r.subject, failures: r.failures, windowStart: r.window_start })

/** Users from rows ordered by (organisation, username, position), with their units. */
export const groupUsers = (rows: ReadonlyArray<UserRow>): User[] => {
  const users: User[] = []
  let current: { organisation: string; username: string; defaultUnit?: string; units: string[] } | undefined
  for (const r of rows) {
    if (!current || current.organisation !== r.organisation || current.username !== r.username) {
      current = { organisation: r.organisation, username: r.username, ...(r.default_unit !== null && { defaultUnit: r.default_unit }), units: [] }
      users.push(current)
    }
    if (r.unit !== null) current.units.push(r.unit)
  }
  return users
}

const first =
  <R, T>(map: (r: R) => T) =>
  (rows: ReadonlyArray<R>): T | undefined =>
    rows[0] === undefined ? undefined : map(rows[0])
export const firstOrganisation = first(toOrganisation)
export const firstKey = first(toKey)
export const firstAccessToken = first(toAccessToken)
export const firstConsumer = first(toConsumer)
export const firstAttempts = first(toAttempts)
export const firstUser = (rows: ReadonlyArray<UserRow>): User | undefined => groupUsers(rows)[0]
export const allAccessTokens = (rows: ReadonlyArray<AccessTokenRow>): AccessToken[] => rows.map(toAccessToken)

/** The key of the first row, with its user (when the user exists) and the units of all rows. */
export const keyWithUser = (rows: ReadonlyArray<KeyWithUserRow>): { key: StoredKey; user?: User } | undefined => {
  const r = rows[0]
  if (r === undefined) return undefined
  const key = toKey(r)
  if (r.user_username === null) return { key }
  const user = firstUser(rows.map((x) => ({ organisation: x.organisation, username: r.user_username!, default_unit: x.default_unit, unit: x.unit })))
  return user === undefined ? { key } : { key, user }
}
