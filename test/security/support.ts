/**
 * Shared helpers of the security suite (test/security): a real in-process service whose store the test holds a
 * handle on (to import documents through the real import path and to read the audit log), with known secrets and a
 * test clock; and a count of the scrypt derivations the process performs (and of how many ran at once), so that a
 * test over HTTP can tell whether a pass code was checked at all. The documented example is test/support/example.ts.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { Logger } from 'pino'
import type { DatabaseUrl } from '../../composition/config.js'
import { hmacDigest } from '../../adapters/crypto/hmac-digest.js'
import { scryptHasher } from '../../adapters/crypto/scrypt-hasher.js'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import type { Secrets } from '../../adapters/crypto/secrets-codec.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { importDocument, type ImportSummary } from '../../adapters/provisioning/import.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import type { Store } from '../../adapters/store/store.js'
import type { AuditEvent, SecretDigest } from '../../core/index.js'
import { testClock, type TestClock } from '../support/doubles.js'
import { basic, postToken, startTestService, type RawResponse, type TestService } from '../support/service.js'

export interface SecuredService {
  readonly svc: TestService
  readonly url: string
  /** The database the service and the test share. */
  readonly db: DatabaseUrl
  /** The service's own store (the test shares the handle; the service closes it on stop). */
  readonly store: Store
  readonly secrets: Secrets
  /** The deployment's digest (HMAC-SHA256 with its pepper). */
  readonly digest: SecretDigest
  readonly clock: TestClock
  /** Imports a document through the real import path (digests and scrypt hashes made here). */
  import(doc: unknown): Promise<ImportSummary>
  audit(): Promise<AuditEvent[]>
  stop(): Promise<void>
}

export interface SecuredServiceOptions {
  readonly flags?: Record<string, string>
  /** Default: a SQLite file in a temporary directory. */
  readonly db?: DatabaseUrl
  /** Serve from a MemoryStore instead of `db` (which is then not opened). */
  readonly memory?: boolean
  readonly clock?: TestClock
  readonly logger?: Logger
  /** Default: newly generated (give the same secrets to instances that share a database). */
  readonly secrets?: Secrets
}

/**
 * A real service over HTTP with known secrets (given inline, as CONSUMER_AUTH_SECRETS would), a test clock, and a
 * store opened here and handed over through the overrides, so the test can write and read rows without a second
 * connection to the same SQLite file. The demo seed is off: each test imports exactly what it needs.
 */
export const startSecuredService = async (options: SecuredServiceOptions = {}): Promise<SecuredService> => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-security-'))
  const db: DatabaseUrl = options.db ?? { engine: 'sqlite', path: join(dir, 'consumer-auth.db'), url: `sqlite:${join(dir, 'consumer-auth.db')}` }
  const secrets = options.secrets ?? (await generateSecrets())
  const clock = options.clock ?? testClock()
  const store = options.memory ? new MemoryStore() : await openSqlStore(db)
  let svc: TestService
  try {
    svc = await startTestService(
      { db: db.url, demo: 'false', secrets: JSON.stringify(secrets), ...options.flags },
      { store, clock, ...(options.logger ? { logger: options.logger } : {}) },
    )
  } catch (e) {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  const digest = hmacDigest(Buffer.from(secrets.pepper, 'base64url'))
  const hasher = scryptHasher()
  return {
    svc,
    url: svc.url,
    db,
    store,
    secrets,
    digest,
    clock,
    import: async (doc) => {
      const r = await importDocument(store, doc, { digest, hasher, clock })
      if (E.isLeft(r)) throw new Error(`the import failed: ${r.left.join('; ')}`)
      return r.right
    },
    audit: async () => (await store.listAuditEvents()).map((e) => e.event),
    stop: async () => {
      await svc.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

export const withPassCode = (identifier: string, pass_code: string, extra: Record<string, unknown> = {}) => ({ access_token_identifier: { identifier, pass_code }, ...extra })
export const withCode = (authentication_code: string, extra: Record<string, unknown> = {}) => ({ access_token_identifier: { authentication_code }, ...extra })

/** POST the token route, with the key as Basic auth username when given. */
export const login = (url: string, body: unknown, key?: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
  postToken(url, body, { ...(key === undefined ? {} : { Authorization: basic(key) }), ...headers })

/** The error name of a failure envelope (`TOOMANYATTEMPTS`), or `OK`. */
export const outcome = (r: RawResponse): string => {
  const code: unknown = r.json?.status?.code
  if (code === 'OK') return 'OK'
  const m = typeof code === 'string' ? /\.([A-Z]+)EXCEPTION$/.exec(code) : null
  return m?.[1] ?? `HTTP ${r.status}: ${r.text.slice(0, 200)}`
}

// ---------------------------------------------------------------------------------------------------------------
// Counting scrypt

/**
 * Counts the scrypt derivations of this process, whoever runs them: node:crypto's `scrypt` is replaced by a
 * counting wrapper and the ESM named exports are re-synchronised (`syncBuiltinESMExports`), so the scrypt hasher's
 * `import { scrypt } from 'node:crypto'` sees the wrapper too. `restore()` puts the original back.
 */
export const countScrypt = (): { readonly count: () => number; readonly maxInFlight: () => number; reset(): void; restore(): void } => {
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  const original = crypto.scrypt
  let calls = 0
  let inFlight = 0
  let maxInFlight = 0
  const counting = function (this: unknown, ...args: unknown[]) {
    calls++
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    // The callback is the last argument: the derivation has ended when it is called.
    const done = args[args.length - 1] as (...r: unknown[]) => void
    args[args.length - 1] = (...r: unknown[]) => {
      inFlight--
      done(...r)
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args)
  }
  crypto.scrypt = counting as typeof crypto.scrypt
  syncBuiltinESMExports()
  return {
    count: () => calls,
    maxInFlight: () => maxInFlight,
    reset: () => {
      calls = 0
      maxInFlight = inFlight
    },
    restore: () => {
      crypto.scrypt = original
      syncBuiltinESMExports()
    },
  }
}
