/**
 * @module store-readiness
 * What `/health/ready` asks (docs/operations.md, "Health"): can a token be issued right now? The store must answer,
 * be migrated (ping, asked every time: a read) and accept a write (checkWritable), within a bounded time. A write
 * that succeeded is trusted for a moment, and concurrent askers share one probe, so a load balancer polling often
 * costs one small write per second at most; a failed one is asked again on the next poll, so recovery shows at once.
 */
import type { Store } from './store.js'

export interface ReadinessOptions {
  /** Past this the store counts as not ready (a hung store must not hang the probe). */
  readonly timeoutMs: number
  /** How long a successful write probe is trusted (default 1000 ms). */
  readonly cacheMs?: number
}

export const storeReadiness = (store: Pick<Store, 'ping' | 'checkWritable'>, options: ReadinessOptions): (() => Promise<boolean>) => {
  const cacheMs = options.cacheMs ?? 1_000
  let wroteAt: number | undefined
  let probing: Promise<void> | undefined

  const writable = async () => {
    if (wroteAt !== undefined && Date.now() - wroteAt < cacheMs) return
    await (probing ??= store.checkWritable().finally(() => {
      probing = undefined
    }))
    wroteAt = Date.now()
  }

  return () =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), options.timeoutMs)
      store
        .ping()
        .then(writable)
        .then(
          () => resolve(true),
          () => resolve(false),
        )
        .finally(() => clearTimeout(timer))
    })
}

/** The service refuses to start on a store it cannot write (a token could not be issued); the CLI exits 2. */
export class StoreNotWritableError extends Error {
  constructor(where: string, cause: unknown) {
    super(
      `the database ${where} does not accept writes (${describeWriteFailure(cause)}), so no token could be issued: ` +
        'check the permissions of the database file and its directory, the free disk space, or the role of the database user',
    )
    this.name = 'StoreNotWritableError'
  }
}

/** The error's code and message only: never a URL or a parameter. */
const describeWriteFailure = (e: unknown): string => {
  const err = e as { code?: unknown; message?: unknown } | undefined
  const code = typeof err?.code === 'string' ? err.code : undefined
  const message = typeof err?.message === 'string' ? err.message.split('\n')[0] : String(e)
  return code && !message?.includes(code) ? `${code}: ${message}` : String(message)
}

/**
 * Errors that say the database refuses writes rather than that it is unreachable: SQLite's read-only, full,
 * permission and can't-open results, and PostgreSQL's read-only transaction (25006), insufficient privilege (42501)
 * and insufficient resources (class 53: disk full, out of memory).
 */
export const isWriteRefusal = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | undefined)?.code
  if (typeof code !== 'string') return false
  return /^SQLITE_(READONLY|FULL|PERM|CANTOPEN|IOERR)/.test(code) || code === '25006' || code === '42501' || /^53/.test(code) || code === 'EROFS' || code === 'EACCES' || code === 'ENOSPC'
}
