/**
 * @module lockout-commands
 * `lockouts list` and `lockouts clear`: the attempt counters that lock subjects out (an identifier, a key, a client
 * address), and clearing one so that the subject may log in again at once. The counters live in the store, so a
 * running server sees the clear on its next request (SQLite: another connection's commit drops its read cache).
 * Subjects are named exactly as the service names them (core/lockout.ts).
 */
import { counterKey, identifierSubject, type AttemptSubject } from '../core/index.js'
import { settings } from '../composition/config.js'
import type { AttemptCount } from '../adapters/store/store.js'
import { dbOption, jsonOption, keyDigestCandidates, storeOptions, withStore, type StoreContext } from './context.js'
import { iso, print, str, table, UsageError, type Command, type Parsed, type Row } from './kit.js'

const KINDS: ReadonlyArray<AttemptSubject['kind']> = ['identifier', 'key', 'address']

const lockoutSettings = [settings.lockoutWindowSeconds, settings.lockoutIdentifierThreshold, settings.lockoutKeyThreshold, settings.lockoutAddressThreshold]

/** A counter's kind and the subject after it (ids carry no secret: an organisation/identifier, a key digest, an address). */
const kindOf = (c: AttemptCount): { kind: string; subject: string } => {
  const kind = KINDS.find((k) => c.subject.startsWith(`${k}:`))
  return kind ? { kind, subject: c.subject.slice(kind.length + 1) } : { kind: 'unknown', subject: c.subject }
}

const lockoutsList: Command = {
  path: ['lockouts', 'list'],
  summary: 'List the subjects with failures counted in their current window, and until when those at the threshold are locked out.',
  details: `Thresholds and window are read from ${lockoutSettings.map((s) => s.env).join(', ')}, as serve reads them.`,
  options: { ...jsonOption, ...dbOption },
  run: (args, io) =>
    withStore(args, io, async (ctx) => {
      const policy = ctx.lockoutPolicy
      const now = ctx.clock.nowSeconds()
      const counts = (await ctx.store.listAttemptCounts()).filter((c) => c.windowStart > now - policy.windowSeconds)
      const rows: Row[] = []
      for (const c of counts) {
        const { kind, subject } = kindOf(c)
        const threshold = KINDS.includes(kind as AttemptSubject['kind']) ? policy.thresholds[kind as AttemptSubject['kind']] : undefined
        const key = kind === 'key' ? await ctx.store.findKeyByDigest(subject) : undefined
        rows.push({
          kind, subject, key_prefix: key?.prefix ?? null, failures: c.failures, threshold: threshold ?? null,
          locked_until: threshold !== undefined && c.failures >= threshold ? iso(c.windowStart + policy.windowSeconds) : null,
        })
      }
      return print(io, args, rows, () => table(rows, ['kind', 'subject', 'key_prefix', 'failures', 'threshold', 'locked_until']))
    }, lockoutSettings),
}

type Named = { readonly organisation: string; readonly identifier: string } | { readonly key: string } | { readonly address: string }

/** The subjects the options name (a key given in clear may stand for its digest or be a digest itself). */
const subjectsNamed = async (ctx: StoreContext, named: Named): Promise<ReadonlyArray<AttemptSubject>> => {
  if ('identifier' in named) return [identifierSubject(named.organisation, named.identifier)]
  if ('key' in named) return (await keyDigestCandidates(ctx, named.key)).map((id): AttemptSubject => ({ kind: 'key', id }))
  return [{ kind: 'address', id: named.address }]
}

/** Exactly one way of naming a subject, with no empty value. */
const namedBy = (args: Parsed): Named => {
  const [organisation, identifier, key, address] = ['organisation', 'identifier', 'key', 'address'].map((n) => str(args, n))
  const forms = [identifier, key, address].filter((v) => v !== undefined).length
  if (forms !== 1) throw new UsageError('name the subject with exactly one of --organisation with --identifier, --key, --address')
  if ((identifier !== undefined) !== (organisation !== undefined)) throw new UsageError('--identifier and --organisation go together')
  for (const [name, v] of Object.entries({ organisation, identifier, key, address })) {
    if (v !== undefined && v.trim() === '') throw new UsageError(`--${name} must not be empty`)
  }
  if (identifier !== undefined) return { organisation: organisation!, identifier }
  return key !== undefined ? { key } : { address: address! }
}

const lockoutsClear: Command = {
  path: ['lockouts', 'clear'],
  summary: 'Clear the failures counted against a subject, so that it may log in again at once (audited).',
  details: 'Name the subject with exactly one of: --organisation ORG --identifier ID, --key KEY_OR_DIGEST, --address ADDR.',
  options: {
    organisation: { type: 'string', value: 'ORG', help: 'the organisation of --identifier' },
    identifier: { type: 'string', value: 'ID', help: 'an access token identifier (with --organisation)' },
    key: { type: 'string', value: 'KEY_OR_DIGEST', help: 'a Web API key, or its digest as `keys list` shows it' },
    address: { type: 'string', value: 'ADDR', help: 'a client address, as the audit log shows it' },
    ...jsonOption,
    ...storeOptions,
  },
  run: (args, io) => {
    const named = namedBy(args)
    return withStore(args, io, async (ctx) => {
      const cleared: Array<{ kind: string; subject: string; failures: number }> = []
      for (const s of await subjectsNamed(ctx, named)) {
        const count = await ctx.store.getAttempts(counterKey(s))
        if (!count) continue
        await ctx.store.transaction(async (tx) => {
          await tx.clearAttempts(counterKey(s))
          await tx.record({ type: 'lockout_cleared', at: ctx.clock.nowSeconds(), subject: s, failures: count.failures })
        })
        cleared.push({ kind: s.kind, subject: s.id, failures: count.failures })
      }
      return print(io, args, { cleared }, () =>
        cleared.length === 0
          ? 'nothing to clear: no failures are counted against that subject\n'
          : cleared.map((c) => `cleared ${c.failures} failure(s) of ${c.kind} ${c.subject}\n`).join(''))
    })
  },
}

export const lockoutCommands: ReadonlyArray<Command> = [lockoutsList, lockoutsClear]
