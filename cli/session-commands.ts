/**
 * @module session-commands
 * `sessions list` and `sessions revoke`: a consumer's unexpired sessions (from the audit log's 'issued' events), and
 * releasing one session or every session of a consumer ("log out everywhere"). A revoked session gets a 'released'
 * audit event, which a running server's session route reads on every request: the revocation takes effect at once
 * there (other verifiers with a revocation check within their cache lifetime).
 */
import type { SessionSummary } from '../adapters/store/store.js'
import { dbOption, jsonOption, withStore, type StoreContext } from './context.js'
import { iso, print, str, table, UsageError, type Command, type OptionSpec, type Row } from './kit.js'

const PROGRAM = 'consumer-auth'
const SESSION_ID = /^[0-9A-F]{32}$/

const consumerOptions = (required: boolean): Record<string, OptionSpec> => ({
  organisation: { type: 'string', value: 'ORG', required, help: 'the organisation of the consumer' },
  consumer: { type: 'string', value: 'ACCOUNTS_RECEIVABLE_ID', required, help: 'the consumer, by its accounts receivable id' },
})

const sessionRow = (s: SessionSummary): Row => ({
  session_id: s.sessionId, issued_at: iso(s.issuedAt), expires_at: iso(s.expiresAt), mode: s.mode, key_prefix: s.keyPrefix ?? null,
  released: s.released,
})
const COLUMNS = ['session_id', 'issued_at', 'expires_at', 'mode', 'key_prefix', 'released']

const sessionsList: Command = {
  path: ['sessions', 'list'],
  summary: "List a consumer's sessions that have not expired yet (released ones marked), newest first.",
  options: { ...consumerOptions(true), ...jsonOption, ...dbOption },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const sessions = await ctx.store.listSessions(str(args, 'organisation')!, str(args, 'consumer')!, ctx.clock.nowSeconds())
      return print(io, args, sessions.map(sessionRow), () => table(sessions.map(sessionRow), COLUMNS))
    }),
}

/** Records the release of each session not released yet; answers the ids it released. */
type Releasable = { sessionId: string; organisation: string; accountsReceivableId: string; expiresAt: number }
const releaseAll = async (ctx: StoreContext, sessions: ReadonlyArray<Releasable>) => {
  const at = ctx.clock.nowSeconds()
  await ctx.store.transaction(async (tx) => {
    for (const s of sessions) {
      const { sessionId, organisation, accountsReceivableId, expiresAt } = s
      await tx.record({ type: 'released', at, sessionId, organisation, accountsReceivableId, expiresAt, by: 'operator' })
    }
  })
  return sessions.map((s) => s.sessionId)
}

const sessionsRevoke: Command = {
  path: ['sessions', 'revoke'],
  summary: 'Revoke (release) one session by its id, or every unexpired session of a consumer with --organisation and --consumer.',
  details: [
    "A running server's session route refuses a revoked session from its next request on; verifiers with a revocation",
    'check (REVOCATION_CHECK, or an embedding service) within their cache lifetime. Revoking twice is harmless.',
  ].join('\n'),
  positionals: [{ name: 'SESSION_ID', help: 'the session (the jti of its token; `sessions list` shows them)', optional: true }],
  options: { ...consumerOptions(false), ...jsonOption, ...dbOption },
  run: (args, io) => {
    const sessionId = args.positionals[0]
    const organisation = str(args, 'organisation')
    const consumer = str(args, 'consumer')
    const byConsumer = organisation !== undefined || consumer !== undefined
    if (sessionId !== undefined && byConsumer) throw new UsageError('give either SESSION_ID or --organisation with --consumer, not both')
    if (sessionId === undefined && !(organisation !== undefined && consumer !== undefined)) {
      throw new UsageError('give SESSION_ID, or --organisation ORG with --consumer ACCOUNTS_RECEIVABLE_ID (every session of that consumer)')
    }
    if (sessionId !== undefined && !SESSION_ID.test(sessionId)) {
      throw new UsageError(`SESSION_ID ${JSON.stringify(sessionId)} is not a session id (32 upper-case hexadecimal characters)`)
    }
    return withStore(args, io, async (ctx) => {
      if (sessionId !== undefined) {
        const record = await ctx.store.sessionRecord(sessionId)
        if (!record) throw new UsageError(`${PROGRAM} sessions revoke: no session ${sessionId} was issued here`)
        const revoked = record.released ? [] : await releaseAll(ctx, [{ sessionId, ...record }])
        return print(io, args, { revoked, alreadyReleased: record.released ? [sessionId] : [] }, () =>
          record.released ? `already released: session ${sessionId}\n` : `revoked session ${sessionId}\n`)
      }
      const sessions = await ctx.store.listSessions(organisation!, consumer!, ctx.clock.nowSeconds())
      const open = sessions.filter((s) => !s.released)
      const revoked = await releaseAll(ctx, open)
      const alreadyReleased = sessions.filter((s) => s.released).map((s) => s.sessionId)
      return print(io, args, { revoked, alreadyReleased }, () =>
        `revoked ${revoked.length} session(s) of consumer ${consumer} (${organisation})` +
        `${alreadyReleased.length > 0 ? `; ${alreadyReleased.length} already released` : ''}\n${revoked.map((id) => `  ${id}\n`).join('')}`)
    })
  },
}

export const sessionCommands: ReadonlyArray<Command> = [sessionsList, sessionsRevoke]
