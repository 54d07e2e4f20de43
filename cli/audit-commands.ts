/**
 * @module audit-commands
 * `audit list`: the audit log, newest first, filtered and paged. Each page ends with the cursor of the next one
 * (`nextCursor` with --json; null on the last page). Events never carry a secret: keys and codes appear only as
 * prefixes and keyed digests, pass codes and tokens not at all; an issued event names its session id.
 */
import type { AuditEvent } from '../core/index.js'
import type { AuditQuery, StoredAuditEvent } from '../adapters/store/store.js'
import { dbOption, jsonOption, withStore } from './context.js'
import { iso, print, str, strs, table, UsageError, type Command, type Parsed, type Row } from './kit.js'

const TYPES: ReadonlyArray<AuditEvent['type']> = ['issued', 'failed', 'locked_out', 'released', 'lockout_cleared']
const DEFAULT_LIMIT = 50
const MAX_LIMIT = 1000

/** An ISO-8601 date or date-time, or whole seconds since the epoch. */
const timeOption = (args: Parsed, name: string): number | undefined => {
  const v = str(args, name)
  if (v === undefined) return undefined
  const seconds = /^\d+$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) / 1000 : NaN
  if (!Number.isFinite(seconds)) throw new UsageError(`--${name} ${JSON.stringify(v)} is not a time: give an ISO-8601 date-time (2026-12-01T10:00:00Z) or seconds since the epoch`)
  return Math.floor(seconds)
}

/** The query the options describe; every bad value is a UsageError naming its option. */
const queryOf = (args: Parsed): AuditQuery => {
  const types = strs(args, 'type')
  const unknown = types.filter((t) => !TYPES.includes(t as AuditEvent['type']))
  if (unknown.length > 0) throw new UsageError(`--type ${JSON.stringify(unknown[0])} is not an event type: one of ${TYPES.join(', ')}`)
  const limitText = str(args, 'limit') ?? String(DEFAULT_LIMIT)
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}`)
  const cursor = str(args, 'cursor')
  if (cursor !== undefined && !/^[1-9]\d{0,15}$/.test(cursor)) throw new UsageError('--cursor must be a cursor as a previous page printed it')
  const since = timeOption(args, 'since')
  const until = timeOption(args, 'until')
  const organisation = str(args, 'organisation')
  const consumer = str(args, 'consumer')
  const keyPrefix = str(args, 'key-prefix')
  return {
    limit: Number(limitText),
    ...(types.length > 0 && { types }),
    ...(cursor !== undefined && { beforeId: Number(cursor) }),
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    ...(organisation !== undefined && { organisation }),
    ...(consumer !== undefined && { accountsReceivableId: consumer }),
    ...(keyPrefix !== undefined && { keyPrefix }),
  }
}

/**
 * One row as listed: what happened, to whom, when; the key digest and access-token id behind a session stay out. An
 * aggregated row (refusals that authenticated nobody, one row per minute and source) says how many it stands for
 * and when the last one was.
 */
const eventRow = ({ id, event: e, count, lastAt }: StoredAuditEvent): Row => {
  const base = { id, at: iso(e.at), type: e.type, count, ...(count > 1 && { last_at: iso(lastAt) }) }
  switch (e.type) {
    case 'issued':
      return { ...base, organisation: e.organisation, consumer: e.accountsReceivableId, session_id: e.sessionId, mode: e.mode, key_prefix: e.keyPrefix ?? null, client_address: e.clientAddress }
    case 'failed':
      return { ...base, organisation: e.organisation ?? null, mode: e.mode, code: e.code, key_prefix: e.keyPrefix ?? null, client_address: e.clientAddress }
    case 'locked_out':
      return { ...base, subject: `${e.subject.kind} ${e.subject.id}`, client_address: e.clientAddress }
    case 'released':
      return { ...base, organisation: e.organisation, consumer: e.accountsReceivableId, session_id: e.sessionId, by: e.by, client_address: e.clientAddress ?? null }
    case 'lockout_cleared':
      return { ...base, subject: `${e.subject.kind} ${e.subject.id}`, failures: e.failures }
  }
}

const COLUMNS = ['id', 'at', 'type', 'count', 'last_at', 'organisation', 'consumer', 'session_id', 'mode', 'code', 'key_prefix', 'subject', 'client_address']

const auditList: Command = {
  path: ['audit', 'list'],
  summary: 'List audit events, newest first, with filters; each page prints the cursor of the next one.',
  options: {
    since: { type: 'string', value: 'TIME', help: 'events at or after this time (ISO-8601, or seconds since the epoch)' },
    until: { type: 'string', value: 'TIME', help: 'events before this time' },
    type: { type: 'string', value: 'TYPE', multiple: true, help: `only events of this type: ${TYPES.join(', ')}` },
    organisation: { type: 'string', value: 'ORG', help: 'only events of this organisation' },
    consumer: { type: 'string', value: 'ACCOUNTS_RECEIVABLE_ID', help: 'only events of this consumer' },
    'key-prefix': { type: 'string', value: 'PREFIX', help: 'only events of the key with this prefix (as `keys list` shows it)' },
    limit: { type: 'string', value: 'N', help: `events per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})` },
    cursor: { type: 'string', value: 'CURSOR', help: 'the page after the one that printed this cursor' },
    ...jsonOption,
    ...dbOption,
  },
  run: (args, io) => {
    const query = queryOf(args)
    return withStore(args, io, async (ctx) => {
      // One more than the page: whether there is a next page is then known, not guessed.
      const found = await ctx.store.queryAuditEvents({ ...query, limit: query.limit + 1 })
      const page = found.slice(0, query.limit)
      const nextCursor = found.length > query.limit ? String(page.at(-1)!.id) : null
      const events = page.map(eventRow)
      return print(io, args, { events, nextCursor }, () =>
        table(events, COLUMNS) + (nextCursor === null ? '(last page)\n' : `next page: --cursor ${nextCursor}\n`))
    })
  },
}

export const auditCommands: ReadonlyArray<Command> = [auditList]
