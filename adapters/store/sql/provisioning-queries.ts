/**
 * @module provisioning-queries
 * The SQL side of provisioning (adapters/store/store.ts `Provisioning`): the upserts of the import and the CLI, one
 * generic upsert for every table (a row replaces the one with its natural key, every other column taken from it),
 * and the listings, through Kysely. Off the request path: nothing here is prepared ahead or batched.
 */
import { sql, type Insertable, type Kysely } from 'kysely'
import type { AccessToken, AccessTokenState, Consumer, IdentityLink, IdentityProvider, KeyStatus, Organisation, Unit, User } from '../../../core/index.js'
import type { StoredKey } from '../store.js'
import { accessTokensWithContact, usersWithUnits } from './queries.js'
import { groupUsers, toAccessToken, toConsumer, toKey, toLink, toOrganisation, toProvider, toUnit } from './rows.js'
import type { Database } from './schema.js'

/** Inserts `row`, or replaces every other column of the row that has its `key`. */
const upsert = async <T extends keyof Database & string>(
  db: Kysely<Database>,
  table: T,
  row: Insertable<Database[T]>,
  key: ReadonlyArray<keyof Database[T] & string>,
): Promise<void> => {
  const columns = Object.keys(row).filter((c) => !(key as ReadonlyArray<string>).includes(c))
  const set = Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)]))
  // The generic table is beyond Kysely's types: the row and the key are checked against the table above.
  const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>
  await untyped.insertInto(table).values(row as Record<string, unknown>).onConflict((oc) => oc.columns([...key]).doUpdateSet(set as never)).execute()
}

export const upsertOrganisation = (db: Kysely<Database>, o: Organisation) =>
  upsert(db, 'organisations', { id: o.id, name: o.name, consumer_user: o.consumerUser }, ['id'])

export const upsertUnit = (db: Kysely<Database>, u: Unit) => upsert(db, 'units', { organisation: u.organisation, id: u.id, name: u.name }, ['organisation', 'id'])

/** The user and its units in their order; run inside a transaction (the units are replaced). */
export const upsertUser = async (db: Kysely<Database>, u: User): Promise<void> => {
  await upsert(db, 'users', { organisation: u.organisation, username: u.username, default_unit: u.defaultUnit ?? null }, ['organisation', 'username'])
  await db.deleteFrom('user_units').where('organisation', '=', u.organisation).where('username', '=', u.username).execute()
  const units = [...new Set(u.units)]
  if (units.length > 0) {
    await db
      .insertInto('user_units')
      .values(units.map((unit, position) => ({ organisation: u.organisation, username: u.username, unit, position })))
      .execute()
  }
}

export const upsertKey = (db: Kysely<Database>, k: StoredKey) =>
  upsert(db, 'web_api_keys', {
    digest: k.digest,
    prefix: k.prefix,
    classification: k.classification,
    status: k.status,
    organisation: k.organisation,
    username: k.user,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt ?? null,
  }, ['digest'])

export const upsertConsumer = (db: Kysely<Database>, c: Consumer) =>
  upsert(db, 'consumers', {
    organisation: c.organisation,
    accounts_receivable_id: c.accountsReceivableId,
    contact_information_id: c.contactInformationId,
  }, ['organisation', 'accounts_receivable_id'])

export const upsertAccessToken = (db: Kysely<Database>, t: AccessToken) =>
  upsert(db, 'access_tokens', {
    id: t.id,
    organisation: t.organisation,
    accounts_receivable_id: t.consumer.accountsReceivableId,
    authentication_code_digest: t.authenticationCodeDigest ?? null,
    identifier: t.identifier ?? null,
    pass_code_hash: t.passCodeHash ?? null,
    state: t.state,
    valid_from: t.validFrom ?? null,
    valid_to: t.validTo ?? null,
  }, ['id'])

export const upsertIdentityProvider = (db: Kysely<Database>, p: IdentityProvider) =>
  upsert(db, 'identity_providers', { issuer: p.issuer, audience: p.audience, jwks: JSON.stringify(p.jwks) }, ['issuer'])

export const upsertIdentityLink = (db: Kysely<Database>, l: IdentityLink) =>
  upsert(db, 'identity_links', {
    issuer: l.issuer,
    subject: l.subject,
    organisation: l.organisation,
    accounts_receivable_id: l.accountsReceivableId,
  }, ['issuer', 'subject', 'organisation'])

export const setKeyStatus = async (db: Kysely<Database>, digest: string, status: KeyStatus): Promise<boolean> =>
  (await db.updateTable('web_api_keys').set({ status }).where('digest', '=', digest).executeTakeFirst()).numUpdatedRows > 0n

export const setAccessTokenState = async (db: Kysely<Database>, id: string, state: AccessTokenState): Promise<boolean> =>
  (await db.updateTable('access_tokens').set({ state }).where('id', '=', id).executeTakeFirst()).numUpdatedRows > 0n

// -- listings, in a stable order; `organisation` narrows to one ---------------------------------------------------

export const listOrganisations = async (db: Kysely<Database>): Promise<ReadonlyArray<Organisation>> =>
  (await db.selectFrom('organisations').selectAll().orderBy('id').execute()).map(toOrganisation)

export const listUnits = async (db: Kysely<Database>, organisation?: string): Promise<ReadonlyArray<Unit>> => {
  const q = db.selectFrom('units').selectAll().$if(organisation !== undefined, (w) => w.where('organisation', '=', organisation!))
  return (await q.orderBy('organisation').orderBy('id').execute()).map(toUnit)
}

export const listUsers = async (db: Kysely<Database>, organisation?: string): Promise<ReadonlyArray<User>> => {
  const q = usersWithUnits(db).$if(organisation !== undefined, (w) => w.where('u.organisation', '=', organisation!))
  return groupUsers(await q.orderBy('u.organisation').orderBy('u.username').orderBy('uu.position').execute())
}

export const listKeys = async (db: Kysely<Database>, organisation?: string): Promise<ReadonlyArray<StoredKey>> => {
  const q = db.selectFrom('web_api_keys').selectAll().$if(organisation !== undefined, (w) => w.where('organisation', '=', organisation!))
  return (await q.orderBy('organisation').orderBy('created_at').orderBy('digest').execute()).map(toKey)
}

export const listConsumers = async (db: Kysely<Database>, organisation?: string): Promise<ReadonlyArray<Consumer>> => {
  const q = db.selectFrom('consumers').selectAll().$if(organisation !== undefined, (w) => w.where('organisation', '=', organisation!))
  return (await q.orderBy('organisation').orderBy('accounts_receivable_id').execute()).map(toConsumer)
}

export const listAccessTokens = async (db: Kysely<Database>, organisation?: string): Promise<ReadonlyArray<AccessToken>> => {
  const q = accessTokensWithContact(db).$if(organisation !== undefined, (w) => w.where('t.organisation', '=', organisation!))
  return (await q.orderBy('t.organisation').orderBy('t.id').execute()).map(toAccessToken)
}

export const listIdentityProviders = async (db: Kysely<Database>): Promise<ReadonlyArray<IdentityProvider>> =>
  (await db.selectFrom('identity_providers').selectAll().orderBy('issuer').execute()).map(toProvider)

export const listIdentityLinks = async (db: Kysely<Database>, organisation?: string): Promise<ReadonlyArray<IdentityLink>> => {
  const q = db.selectFrom('identity_links').selectAll().$if(organisation !== undefined, (w) => w.where('organisation', '=', organisation!))
  return (await q.orderBy('organisation').orderBy('issuer').orderBy('subject').execute()).map(toLink)
}

export const findConsumerByAccountsReceivable = async (db: Kysely<Database>, organisation: string, accountsReceivableId: string): Promise<Consumer | undefined> => {
  const r = await db
    .selectFrom('consumers')
    .selectAll()
    .where('organisation', '=', organisation)
    .where('accounts_receivable_id', '=', accountsReceivableId)
    .executeTakeFirst()
  return r && toConsumer(r)
}
