/**
 * @module provisioning-commands
 * Create/list for every stored entity (docs/behaviour.md, the storage rules) (`import` and `migrate`: import-commands.ts),
 * derived from the entry table (adapters/provisioning/entries.ts): a create command's flags are its entry's fields,
 * with the table's help text. Every create goes through the import (one entry, the same checks, digests and hashes,
 * one transaction), so the command line and files follow the same rules; create therefore also updates an entity
 * that has the same natural key. What is left here is what each command prints.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { keyPrefix, type AccessToken } from '../core/index.js'
import {
  entryNames, entryRow, fieldCodec, isMade, type EntryName, type EntryOf, type EntryRow, type FieldSpec, type FlagSpec,
} from '../adapters/provisioning/entries.js'
import { formatIssue, formatPath, type ImportIssue } from '../adapters/provisioning/import-document.js'
import { importDocumentChecked, type ImportSummary } from '../adapters/provisioning/import.js'
import type { StoredKey } from '../adapters/store/store.js'
import { dbOption, jsonOption, keyDigestCandidates, storeOptions, withStore, type StoreContext } from './context.js'
import { iso, print, readJsonFile, str, strs, table, UsageError, type Command, type OptionSpec, type Parsed, type Row } from './kit.js'

const PROGRAM = 'consumer-auth'

// ---------------------------------------------------------------------------------------------------------------
// Flags from the table

/** A list is a repeatable flag, a JSON object a file to read, anything else a string. */
const kindOf = (row: EntryRow, field: string): 'list' | 'file' | 'string' => {
  const codec = fieldCodec(row, field)
  return codec instanceof t.ArrayType ? 'list' : 'required' in codec ? 'file' : 'string'
}

/** One flag of a create command: the field it gives, its name, its spec. */
export interface EntryFlag {
  readonly field: string
  readonly flag: string
  readonly kind: 'list' | 'file' | 'string'
  readonly spec: FlagSpec
}

/** `--name` for `name`, `--unit` for the list `units`, `--jwks-file` for the JSON object `jwks`. */
const flagName = (row: EntryRow, field: string): string => {
  const name = field.replace(/_/g, '-')
  const kind = kindOf(row, field)
  return kind === 'list' ? name.replace(/s$/, '') : kind === 'file' ? `${name}-file` : name
}

/** The flags of an entry kind's create command, in the table's order (fields the command makes itself have none). */
export const entryFlags = (name: EntryName): ReadonlyArray<EntryFlag> => {
  const row = entryRow(name)
  return Object.entries(row.fields as Record<string, FieldSpec>).flatMap(([field, spec]) =>
    isMade(spec) ? [] : [{ field, flag: flagName(row, field), kind: kindOf(row, field), spec }])
}

const optionOf = (row: EntryRow, f: EntryFlag): OptionSpec => ({
  type: 'string',
  help: f.spec.default === undefined ? f.spec.help : `${f.spec.help} (default ${f.spec.default})`,
  ...(f.spec.value === undefined ? {} : { value: f.spec.value }),
  ...(f.kind === 'list' ? { multiple: true } : {}),
  ...(f.field in row.codec.required && f.kind !== 'list' && f.spec.default === undefined ? { required: true } : {}),
})

/** An entry in its codec's field order, each field's value from `valueOf` (absent when undefined). */
const entryFrom = (row: EntryRow, valueOf: (field: string, spec: FieldSpec) => unknown): Record<string, unknown> =>
  Object.fromEntries([...Object.keys(row.codec.required), ...Object.keys(row.codec.optional)].flatMap((field) => {
    const spec = (row.fields as Record<string, FieldSpec>)[field]!
    const v = isMade(spec) ? spec.make() : valueOf(field, spec)
    return v === undefined ? [] : [[field, v]]
  }))

// ---------------------------------------------------------------------------------------------------------------
// Create

/** What a create command prints: `created <what>` (`updated <what>`), or a text of its own. */
type Says<N extends EntryName> =
  | { readonly what: (e: EntryOf<N>, s: ImportSummary) => string }
  | { readonly text: (e: EntryOf<N>, s: ImportSummary) => string }

/** What a create command says, besides its flags. */
type Creating<N extends EntryName> = Says<N> & {
  readonly summary: string
  readonly details?: string
  /** The output with --json (default: the entry). */
  readonly json?: (e: EntryOf<N>, s: ImportSummary, ctx: StoreContext) => unknown
  /** A kind that this entry refers to, created with it when the store does not hold it yet, and the line that says so. */
  readonly createsMissing?: { readonly to: EntryName; readonly line: (e: EntryOf<N>) => string }
}

const createCommand = <N extends EntryName>(name: N, c: Creating<N>): Command => {
  const row = entryRow(name)
  const flags = entryFlags(name)
  const command = `${row.noun} create`
  const flagOfField = new Map(flags.map((f) => [f.field, `--${f.flag}`]))
  const companion = c.createsMissing && row.references.find((r) => r.to === c.createsMissing!.to)
  /** `--pass-code: is mandatory when identifier is given`; a companion's field by the flag that gave it. */
  const byFlag = (i: ImportIssue) => {
    const [entry, , field, ...rest] = i.path
    if (typeof field !== 'string') return formatIssue(i)
    const own = entry === name ? field : companion?.by[entryRow(companion.to).keys[0]!.fields.indexOf(field)] ?? field
    // users[0].units[2] -> --unit (the message names the unit); identity_providers[0].jwks.keys[1] -> --jwks-file (keys[1])
    const where = rest.length > 0 && typeof rest[0] === 'string' ? ` (${formatPath(rest)})` : ''
    return `${flagOfField.get(own) ?? `--${own.replace(/_/g, '-')}`}${where}: ${i.message}`
  }
  return {
    path: [row.noun, 'create'],
    summary: c.summary,
    ...(c.details === undefined ? {} : { details: c.details }),
    options: { ...Object.fromEntries(flags.map((f) => [f.flag, optionOf(row, f)])), ...storeOptions, ...jsonOption },
    run: async (args: Parsed, io) => {
      // Files first: a file that cannot be read is refused before the store is opened.
      const files = new Map<string, unknown>()
      for (const f of flags) if (f.kind === 'file') files.set(f.field, await readJsonFile(str(args, f.flag)!, f.spec.file ?? 'the file'))
      return withStore(args, io, async (ctx) => {
        const entry = entryFrom(row, (field, spec) => {
          const flag = flags.find((f) => f.field === field)!
          return flag.kind === 'list' ? strs(args, flag.flag) : flag.kind === 'file' ? files.get(field) : str(args, flag.flag) ?? (spec as FlagSpec).default
        }) as EntryOf<N>
        const doc: Partial<Record<EntryName, unknown[]>> = { [name]: [entry] }
        let missing = false
        if (companion) {
          const target = entryRow(companion.to)
          const key = companion.by.map((f) => (entry as Record<string, string>)[f]!)
          missing = !(await target.inStore!(ctx.store)(key))
          const values = new Map(target.keys[0]!.fields.map((f, i) => [f, key[i]]))
          if (missing) doc[companion.to] = [entryFrom(target, (field) => values.get(field) ?? (kindOf(target, field) === 'list' ? [] : undefined))]
        }
        const result = await importDocumentChecked(ctx.store, doc, await ctx.importDeps())
        if (E.isLeft(result)) throw new UsageError(`${PROGRAM} ${command}: nothing was written`, result.left.map(byFlag))
        const s = result.right
        const json = c.json ? await c.json(entry, s, ctx) : entry
        return print(io, args, json, () =>
          'text' in c ? c.text(entry, s)
            : `${s[name].created > 0 ? 'created' : 'updated'} ${c.what(entry, s)}\n${missing ? `${c.createsMissing!.line(entry)}\n` : ''}`)
      })
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// List (what lists print: never a secret; digests of keys are shown so that a key can be revoked by them)

interface Listing {
  readonly summary: string
  readonly rows: (ctx: StoreContext, organisation: string | undefined) => Promise<ReadonlyArray<Row>>
  /** Default: the entry's fields, in the table's order. */
  readonly columns?: ReadonlyArray<string>
}

const withoutUndefined = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? null]))

const listCommand = (name: EntryName, l: Listing): Command => {
  const row = entryRow(name)
  const columns = l.columns ?? Object.keys(row.fields)
  // Kinds that belong to an organisation can be listed for one.
  const filter: Record<string, OptionSpec> = 'organisation' in row.fields
    ? { organisation: { type: 'string', value: 'ID', help: 'only this organisation' } }
    : {}
  return {
    path: [row.noun, 'list'],
    summary: l.summary,
    options: { ...filter, ...jsonOption, ...dbOption },
    run: (args, io) =>
      withStore(args, io, async (ctx) => {
        const r = await l.rows(ctx, str(args, 'organisation'))
        return print(io, args, r.map(withoutUndefined), () => table(r, columns))
      }),
  }
}

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

// ---------------------------------------------------------------------------------------------------------------
// What each kind's commands say

interface Presentation<N extends EntryName> {
  readonly create: Creating<N>
  readonly list: Listing
  /** Its other commands (revoke, suspend), after create and list. */
  readonly more?: ReadonlyArray<Command>
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

/** What `keys create` prints: the new key, once. */
const newKey = (k: EntryOf<'web_api_keys'>, s: ImportSummary) => ({
  key: k.key, prefix: keyPrefix(k.key), digest: s.keyDigests[0]!, organisation: k.organisation, user: k.user,
  classification: k.classification, status: k.status,
})

const presentations: { readonly [N in EntryName]: Presentation<N> } = {
  organisations: {
    create: {
      summary: 'Create (or update) an organisation.',
      details: 'A consumer user that does not exist yet is created with it, without units: give it units with `users create`.',
      what: (o) => `organisation ${o.id}`,
      createsMissing: { to: 'users', line: (o) => `created its consumer user ${o.consumer_user} (no units yet: see \`users create --help\`)` },
    },
    list: {
      summary: 'List the organisations.',
      rows: async (ctx) => (await ctx.store.listOrganisations()).map((o) => ({ id: o.id, name: o.name, consumer_user: o.consumerUser })),
    },
  },
  units: {
    create: { summary: 'Create (or update) a unit of an organisation.', what: (u) => `unit ${u.id} of ${u.organisation}` },
    list: { summary: 'List the units.', rows: async (ctx, org) => (await ctx.store.listUnits(org)).map((u) => ({ organisation: u.organisation, id: u.id, name: u.name })) },
  },
  users: {
    create: { summary: 'Create (or update) a user of an organisation.', what: (u) => `user ${u.username} of ${u.organisation}` },
    list: {
      summary: 'List the users.',
      rows: async (ctx, org) =>
        (await ctx.store.listUsers(org)).map((u) => ({ organisation: u.organisation, username: u.username, default_unit: u.defaultUnit, units: u.units })),
    },
  },
  web_api_keys: {
    create: {
      summary: 'Create a Web API key for a user; prints the key once (only its digest is stored).',
      json: newKey,
      text: (k, s) => {
        const out = newKey(k, s)
        return [
          `key:            ${out.key}`,
          `prefix:         ${out.prefix}`,
          `digest:         ${out.digest}`,
          `organisation:   ${out.organisation}`,
          `user:           ${out.user}`,
          `classification: ${out.classification}`,
          '',
          'The key is shown this once: only its digest is stored. Keep it now.',
          '',
        ].join('\n')
      },
    },
    list: {
      summary: 'List the Web API keys (never the keys themselves: their prefix and digest).',
      rows: async (ctx, org) => (await ctx.store.listKeys(org)).map(keyRow),
      columns: ['prefix', 'organisation', 'user', 'classification', 'status', 'created_at', 'last_used_at', 'digest'],
    },
    more: [keysRevoke],
  },
  consumers: {
    create: {
      summary: 'Create (or update) a consumer: an accounts receivable with its contact information.',
      what: (c) => `consumer ${c.accounts_receivable_id} of ${c.organisation}`,
    },
    list: {
      summary: 'List the consumers.',
      rows: async (ctx, org) => (await ctx.store.listConsumers(org)).map((c) => ({
        organisation: c.organisation, contact_information_id: c.contactInformationId, accounts_receivable_id: c.accountsReceivableId,
      })),
    },
  },
  access_tokens: {
    create: {
      summary: 'Create (or update) an access token of a consumer: an authentication code, or an identifier with a pass code.',
      details: 'Secrets on a command line can be seen by other local users and stay in shell history: for real data prefer\n' +
        '`consumer-auth import FILE`. Authentication codes log in alone: make them long and random.',
      what: (_, s) => `access token ${s.accessTokenIds[0]!} (use this id to suspend it)`,
      json: async (_, s, ctx) => {
        const id = s.accessTokenIds[0]!
        const token = await ctx.store.findAccessToken(id)
        return token ? withoutUndefined(accessTokenRow(token)) : { id }
      },
    },
    list: {
      summary: 'List the access tokens (never their codes or pass codes).',
      rows: async (ctx, org) => (await ctx.store.listAccessTokens(org)).map(accessTokenRow),
      columns: ['id', 'organisation', 'accounts_receivable_id', 'credential', 'identifier', 'state', 'valid_from', 'valid_to'],
    },
    more: [accessTokensSuspend],
  },
  identity_providers: {
    create: {
      summary: 'Create (or update) an identity provider whose JWTs may open sessions (R16.2.0+).',
      what: (p) => `identity provider ${p.issuer} (${p.jwks.keys.length} key${p.jwks.keys.length === 1 ? '' : 's'})`,
      json: (p) => ({ issuer: p.issuer, audience: p.audience, keys: p.jwks.keys.length }),
    },
    list: {
      summary: 'List the identity providers.',
      rows: async (ctx) => (await ctx.store.listIdentityProviders()).map((p) => ({
        issuer: p.issuer, audience: p.audience, key_ids: p.jwks.keys.map((k, i) => (typeof k['kid'] === 'string' ? k['kid'] : `#${i}`)),
      })),
      columns: ['issuer', 'audience', 'key_ids'],
    },
  },
  identity_links: {
    create: {
      summary: 'Link an identity (issuer, subject) to a consumer of an organisation.',
      what: (l) => `identity link ${l.issuer} ${l.subject} -> ${l.accounts_receivable_id} (${l.organisation})`,
    },
    list: {
      summary: 'List the identity links.',
      rows: async (ctx, org) => (await ctx.store.listIdentityLinks(org)).map((l) => ({
        issuer: l.issuer, subject: l.subject, organisation: l.organisation, accounts_receivable_id: l.accountsReceivableId,
      })),
    },
  },
}

const commandsOf = <N extends EntryName>(name: N): ReadonlyArray<Command> => {
  const p = presentations[name]
  return [createCommand(name, p.create), listCommand(name, p.list), ...(p.more ?? [])]
}

export const provisioningCommands: ReadonlyArray<Command> = entryNames.flatMap(commandsOf)
