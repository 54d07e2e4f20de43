/**
 * @module provisioning-commands
 * Create/list for every stored entity (docs/behaviour.md, the storage rules) (`import` and `migrate`: import-commands.ts). Every create goes through the import (one entry,
 * the same checks, digests and hashes, one transaction), so the command line and files follow the same rules;
 * create therefore also updates an entity that has the same natural key.
 */
import { randomBytes } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { accessTokenStates, keyClassifications, keyPrefix, type AccessToken } from '../core/index.js'
import { formatIssue, formatPath, type EntryName, type ImportIssue } from '../adapters/provisioning/import-document.js'
import { importDocumentChecked, type ImportSummary } from '../adapters/provisioning/import.js'
import type { StoredKey } from '../adapters/store/store.js'
import { dbOption, jsonOption, keyDigestCandidates, storeOptions, withStore, type StoreContext } from './context.js'
import { iso, print, readJsonFile, str, strs, table, UsageError, type Command, type OptionSpec, type Row } from './kit.js'

const PROGRAM = 'consumer-auth'

const organisationFilter: Record<string, OptionSpec> = { organisation: { type: 'string', value: 'ID', help: 'only this organisation' } }

/**
 * Imports a one-entry document built from flags; problems are reported by flag (`--pass-code: is mandatory when
 * identifier is given`) through `flagOf`, which maps the entry's field to its flag.
 */
const createVia = async (
  ctx: StoreContext,
  command: string,
  doc: Partial<Record<EntryName, unknown[]>>,
  flagOf: (field: string) => string = (f) => `--${f.replace(/_/g, '-')}`,
): Promise<ImportSummary> => {
  const result = await importDocumentChecked(ctx.store, doc, await ctx.importDeps())
  if (E.isLeft(result)) {
    const byFlag = (i: ImportIssue) => {
      const [, , field, ...rest] = i.path
      if (typeof field !== 'string') return formatIssue(i)
      // users[0].units[2] -> --unit (the message names the unit); identity_providers[0].jwks.keys[1] -> --jwks-file (keys[1])
      const where = rest.length > 0 && typeof rest[0] === 'string' ? ` (${formatPath(rest)})` : ''
      return `${flagOf(field)}${where}: ${i.message}`
    }
    throw new UsageError(`${PROGRAM} ${command}: nothing was written`, result.left.map(byFlag))
  }
  return result.right
}

// ---------------------------------------------------------------------------------------------------------------
// Rows (what lists print: never a secret; digests of keys are shown so that a key can be revoked by them)

const keyRow = (k: StoredKey): Row => ({
  prefix: k.prefix, organisation: k.organisation, user: k.user, classification: k.classification, status: k.status,
  created_at: iso(k.createdAt), last_used_at: iso(k.lastUsedAt), digest: k.digest,
})

const accessTokenRow = (a: AccessToken): Row => ({
  id: a.id, organisation: a.organisation, accounts_receivable_id: a.consumer.accountsReceivableId,
  contact_information_id: a.consumer.contactInformationId,
  credential: a.identifier !== undefined ? 'identifier' : 'authentication_code',
  identifier: a.identifier, state: a.state, valid_from: iso(a.validFrom), valid_to: iso(a.validTo),
})

const withoutUndefined = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? null]))

const listCommand = (
  entity: string,
  summary: string,
  options: Record<string, OptionSpec>,
  rows: (ctx: StoreContext, organisation: string | undefined) => Promise<ReadonlyArray<Row>>,
  columns: ReadonlyArray<string>,
): Command => ({
  path: [entity, 'list'],
  summary,
  options: { ...options, ...jsonOption, ...dbOption },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const r = await rows(ctx, str(args, 'organisation'))
      return print(io, args, r.map(withoutUndefined), () => table(r, columns))
    }),
})

const createdLine = (s: ImportSummary, entry: EntryName, what: string) => `${s[entry].created > 0 ? 'created' : 'updated'} ${what}\n`

// ---------------------------------------------------------------------------------------------------------------

// Organisations ---------------------------------------------------------------------------------------------------

const organisationsCreate: Command = {
  path: ['organisations', 'create'],
  summary: 'Create (or update) an organisation.',
  details: 'A consumer user that does not exist yet is created with it, without units: give it units with `users create`.',
  options: {
    id: { type: 'string', required: true, help: 'the organisation id (the `org` claim)' },
    name: { type: 'string', required: true, help: 'its display name' },
    'consumer-user': { type: 'string', value: 'USERNAME', required: true, help: 'the user that keyless and identity-JWT sessions run as' },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const o = { id: str(args, 'id')!, name: str(args, 'name')!, consumer_user: str(args, 'consumer-user')! }
      const newUser = (await ctx.store.findUser(o.id, o.consumer_user)) === undefined
      const doc = { organisations: [o], ...(newUser ? { users: [{ organisation: o.id, username: o.consumer_user, units: [] }] } : {}) }
      const s = await createVia(ctx, 'organisations create', doc, (f) => (f === 'username' ? '--consumer-user' : `--${f.replace(/_/g, '-')}`))
      return print(io, args, o, () =>
        createdLine(s, 'organisations', `organisation ${o.id}`) +
        (newUser ? `created its consumer user ${o.consumer_user} (no units yet: see \`users create --help\`)\n` : ''))
    }),
}

// Units, users ------------------------------------------------------------------------------------------------------

const unitsCreate: Command = {
  path: ['units', 'create'],
  summary: 'Create (or update) a unit of an organisation.',
  options: {
    organisation: { type: 'string', value: 'ID', required: true, help: 'the organisation' },
    id: { type: 'string', required: true, help: 'the unit id (the `oun` claim)' },
    name: { type: 'string', required: true, help: 'its display name' },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const u = { organisation: str(args, 'organisation')!, id: str(args, 'id')!, name: str(args, 'name')! }
      const s = await createVia(ctx, 'units create', { units: [u] })
      return print(io, args, u, () => createdLine(s, 'units', `unit ${u.id} of ${u.organisation}`))
    }),
}

const usersCreate: Command = {
  path: ['users', 'create'],
  summary: 'Create (or update) a user of an organisation.',
  options: {
    organisation: { type: 'string', value: 'ID', required: true, help: 'the organisation' },
    username: { type: 'string', required: true, help: 'the username (the `usr` claim)' },
    'default-unit': { type: 'string', value: 'UNIT', help: 'the unit sessions log in to when the request names none' },
    unit: { type: 'string', value: 'UNIT', multiple: true, help: 'a unit the user belongs to' },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const defaultUnit = str(args, 'default-unit')
      const u = {
        organisation: str(args, 'organisation')!, username: str(args, 'username')!, units: strs(args, 'unit'),
        ...(defaultUnit === undefined ? {} : { default_unit: defaultUnit }),
      }
      const s = await createVia(ctx, 'users create', { users: [u] }, (f) => (f === 'units' ? '--unit' : `--${f.replace(/_/g, '-')}`))
      return print(io, args, u, () => createdLine(s, 'users', `user ${u.username} of ${u.organisation}`))
    }),
}

// Keys ------------------------------------------------------------------------------------------------------------

/** A new Web API key: 128 random bits as 32 upper-case hex characters, like CRM.COM's documented example. */
export const newWebApiKey = (): string => randomBytes(16).toString('hex').toUpperCase()

const keysCreate: Command = {
  path: ['keys', 'create'],
  summary: 'Create a Web API key for a user; prints the key once (only its digest is stored).',
  options: {
    organisation: { type: 'string', value: 'ID', required: true, help: 'the organisation' },
    user: { type: 'string', value: 'USERNAME', required: true, help: 'the user the key belongs to (the `usr` claim)' },
    classification: { type: 'string', value: 'CLASS', help: `${keyClassifications.join(' or ')} (default CONSUMER_APPLICATION_KEY)` },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const key = newWebApiKey()
      const entry = {
        organisation: str(args, 'organisation')!, user: str(args, 'user')!, key,
        classification: str(args, 'classification') ?? 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE',
      }
      const s = await createVia(ctx, 'keys create', { web_api_keys: [entry] })
      const out = {
        key, prefix: keyPrefix(key), digest: s.keyDigests[0]!, organisation: entry.organisation, user: entry.user,
        classification: entry.classification, status: entry.status,
      }
      return print(io, args, out, () => [
        `key:            ${out.key}`,
        `prefix:         ${out.prefix}`,
        `digest:         ${out.digest}`,
        `organisation:   ${out.organisation}`,
        `user:           ${out.user}`,
        `classification: ${out.classification}`,
        '',
        'The key is shown this once: only its digest is stored. Keep it now.',
        '',
      ].join('\n'))
    }),
}

const keysRevoke: Command = {
  path: ['keys', 'revoke'],
  summary: 'Revoke a Web API key, given the key itself or the digest that `keys list` shows.',
  positionals: [{ name: 'KEY_OR_DIGEST', help: 'the key, or its digest' }],
  options: { ...storeOptions, ...jsonOption },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      for (const d of await keyDigestCandidates(ctx, args.positionals[0]!)) {
        const key = await ctx.store.findKeyByDigest(d)
        if (!key) continue
        await ctx.store.setKeyStatus(d, 'REVOKED')
        const out = { prefix: key.prefix, digest: d, organisation: key.organisation, user: key.user, status: 'REVOKED', was: key.status }
        return print(io, args, out, () =>
          `${key.status === 'REVOKED' ? 'already revoked' : 'revoked'}: key ${key.prefix}… of user ${key.user} (${key.organisation}), digest ${d}\n`)
      }
      throw new UsageError(`${PROGRAM} keys revoke: no key has that value or digest`)
    }),
}

// Consumers, access tokens ----------------------------------------------------------------------------------------

const consumersCreate: Command = {
  path: ['consumers', 'create'],
  summary: 'Create (or update) a consumer: an accounts receivable with its contact information.',
  options: {
    organisation: { type: 'string', value: 'ID', required: true, help: 'the organisation' },
    'contact-information-id': { type: 'string', value: 'ID', required: true, help: 'the `cii` claim' },
    'accounts-receivable-id': { type: 'string', value: 'ID', required: true, help: 'the `ari` claim' },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const c = {
        organisation: str(args, 'organisation')!, contact_information_id: str(args, 'contact-information-id')!,
        accounts_receivable_id: str(args, 'accounts-receivable-id')!,
      }
      const s = await createVia(ctx, 'consumers create', { consumers: [c] })
      return print(io, args, c, () => createdLine(s, 'consumers', `consumer ${c.accounts_receivable_id} of ${c.organisation}`))
    }),
}

const accessTokensCreate: Command = {
  path: ['access-tokens', 'create'],
  summary: 'Create (or update) an access token of a consumer: an authentication code, or an identifier with a pass code.',
  details: 'Secrets on a command line can be seen by other local users and stay in shell history: for real data prefer\n' +
    '`consumer-auth import FILE`. Authentication codes log in alone: make them long and random.',
  options: {
    organisation: { type: 'string', value: 'ID', required: true, help: 'the organisation' },
    'accounts-receivable-id': { type: 'string', value: 'ID', required: true, help: 'the consumer' },
    'authentication-code': { type: 'string', value: 'CODE', help: 'the code (alone, or give --identifier and --pass-code)' },
    identifier: { type: 'string', help: 'the identifier (with --pass-code)' },
    'pass-code': { type: 'string', value: 'CODE', help: 'the pass code of the identifier' },
    state: { type: 'string', help: `${accessTokenStates.join(', ')} (default EFFECTIVE)` },
    'valid-from': { type: 'string', value: 'ISO', help: 'start of the validity window, e.g. 2026-01-01T00:00:00Z' },
    'valid-to': { type: 'string', value: 'ISO', help: 'end of the validity window' },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const opt = (flagName: string, field: string) => {
        const v = str(args, flagName)
        return v === undefined ? {} : { [field]: v }
      }
      const entry = {
        organisation: str(args, 'organisation')!, accounts_receivable_id: str(args, 'accounts-receivable-id')!,
        ...opt('authentication-code', 'authentication_code'), ...opt('identifier', 'identifier'), ...opt('pass-code', 'pass_code'),
        state: str(args, 'state') ?? 'EFFECTIVE', ...opt('valid-from', 'valid_from'), ...opt('valid-to', 'valid_to'),
      }
      const s = await createVia(ctx, 'access-tokens create', { access_tokens: [entry] })
      const id = s.accessTokenIds[0]!
      const token = await ctx.store.findAccessToken(id)
      const row = token ? withoutUndefined(accessTokenRow(token)) : { id }
      return print(io, args, row, () => `${createdLine(s, 'access_tokens', `access token ${id}`).trimEnd()} (use this id to suspend it)\n`)
    }),
}

const accessTokensSuspend: Command = {
  path: ['access-tokens', 'suspend'],
  summary: 'Suspend an access token (it no longer logs in; sessions it opened fail the revocation check).',
  positionals: [{ name: 'ID', help: 'the access token id that `access-tokens list` shows' }],
  options: { ...storeOptions, ...jsonOption },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const id = args.positionals[0]!.trim().toUpperCase()
      const before = await ctx.store.findAccessToken(id)
      if (!before || !(await ctx.store.setAccessTokenState(id, 'SUSPENDED'))) {
        throw new UsageError(`${PROGRAM} access-tokens suspend: no access token has the id ${JSON.stringify(id)}`)
      }
      return print(io, args, { id, state: 'SUSPENDED', was: before.state }, () =>
        `${before.state === 'SUSPENDED' ? 'already suspended' : `suspended (was ${before.state})`}: access token ${id}\n`)
    }),
}

// Identity providers and links ---------------------------------------------------------------------------------------

const identityProvidersCreate: Command = {
  path: ['identity-providers', 'create'],
  summary: 'Create (or update) an identity provider whose JWTs may open sessions (R16.2.0+).',
  options: {
    issuer: { type: 'string', value: 'ISS', required: true, help: 'the `iss` of its tokens' },
    audience: { type: 'string', value: 'AUD', required: true, help: 'the `aud` its tokens must contain' },
    'jwks-file': { type: 'string', value: 'FILE', required: true, help: 'a JSON file with its public keys: {"keys": [...]}' },
    ...storeOptions, ...jsonOption,
  },
  run: async (args, io) => {
    const jwks = await readJsonFile(str(args, 'jwks-file')!, 'the JWKS file')
    return withStore(args, io, async (ctx) => {
      const p = { issuer: str(args, 'issuer')!, audience: str(args, 'audience')!, jwks }
      const s = await createVia(ctx, 'identity-providers create', { identity_providers: [p] }, (f) => (f === 'jwks' ? '--jwks-file' : `--${f}`))
      const keys = (jwks as { keys: unknown[] }).keys.length
      return print(io, args, { issuer: p.issuer, audience: p.audience, keys }, () =>
        createdLine(s, 'identity_providers', `identity provider ${p.issuer} (${keys} key${keys === 1 ? '' : 's'})`))
    })
  },
}

const identityLinksCreate: Command = {
  path: ['identity-links', 'create'],
  summary: 'Link an identity (issuer, subject) to a consumer of an organisation.',
  options: {
    issuer: { type: 'string', value: 'ISS', required: true, help: 'an identity provider\'s issuer' },
    subject: { type: 'string', value: 'SUB', required: true, help: 'the `sub` of the identity' },
    organisation: { type: 'string', value: 'ID', required: true, help: 'the organisation' },
    'accounts-receivable-id': { type: 'string', value: 'ID', required: true, help: 'the consumer' },
    ...storeOptions, ...jsonOption,
  },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const l = {
        issuer: str(args, 'issuer')!, subject: str(args, 'subject')!, organisation: str(args, 'organisation')!,
        accounts_receivable_id: str(args, 'accounts-receivable-id')!,
      }
      const s = await createVia(ctx, 'identity-links create', { identity_links: [l] })
      return print(io, args, l, () => createdLine(s, 'identity_links', `identity link ${l.issuer} ${l.subject} -> ${l.accounts_receivable_id} (${l.organisation})`))
    }),
}

export const provisioningCommands: ReadonlyArray<Command> = [
  organisationsCreate,
  listCommand('organisations', 'List the organisations.', {}, async (ctx) =>
    (await ctx.store.listOrganisations()).map((o) => ({ id: o.id, name: o.name, consumer_user: o.consumerUser })), ['id', 'name', 'consumer_user']),
  unitsCreate,
  listCommand('units', 'List the units.', organisationFilter, async (ctx, org) =>
    (await ctx.store.listUnits(org)).map((u) => ({ organisation: u.organisation, id: u.id, name: u.name })), ['organisation', 'id', 'name']),
  usersCreate,
  listCommand('users', 'List the users.', organisationFilter, async (ctx, org) =>
    (await ctx.store.listUsers(org)).map((u) => ({ organisation: u.organisation, username: u.username, default_unit: u.defaultUnit, units: u.units })),
  ['organisation', 'username', 'default_unit', 'units']),
  keysCreate,
  listCommand('keys', 'List the Web API keys (never the keys themselves: their prefix and digest).', organisationFilter,
    async (ctx, org) => (await ctx.store.listKeys(org)).map(keyRow),
    ['prefix', 'organisation', 'user', 'classification', 'status', 'created_at', 'last_used_at', 'digest']),
  keysRevoke,
  consumersCreate,
  listCommand('consumers', 'List the consumers.', organisationFilter, async (ctx, org) =>
    (await ctx.store.listConsumers(org)).map((c) => ({
      organisation: c.organisation, contact_information_id: c.contactInformationId, accounts_receivable_id: c.accountsReceivableId,
    })), ['organisation', 'contact_information_id', 'accounts_receivable_id']),
  accessTokensCreate,
  listCommand('access-tokens', 'List the access tokens (never their codes or pass codes).', organisationFilter,
    async (ctx, org) => (await ctx.store.listAccessTokens(org)).map(accessTokenRow),
    ['id', 'organisation', 'accounts_receivable_id', 'credential', 'identifier', 'state', 'valid_from', 'valid_to']),
  accessTokensSuspend,
  identityProvidersCreate,
  listCommand('identity-providers', 'List the identity providers.', {}, async (ctx) =>
    (await ctx.store.listIdentityProviders()).map((p) => ({
      issuer: p.issuer, audience: p.audience, key_ids: p.jwks.keys.map((k, i) => (typeof k['kid'] === 'string' ? k['kid'] : `#${i}`)),
    })), ['issuer', 'audience', 'key_ids']),
  identityLinksCreate,
  listCommand('identity-links', 'List the identity links.', organisationFilter, async (ctx, org) =>
    (await ctx.store.listIdentityLinks(org)).map((l) => ({
      issuer: l.issuer, subject: l.subject, organisation: l.organisation, accounts_receivable_id: l.accountsReceivableId,
    })), ['issuer', 'subject', 'organisation', 'accounts_receivable_id']),
]

