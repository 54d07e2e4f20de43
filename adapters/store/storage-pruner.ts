/**
 * @module storage-pruner
 * The pruning job inside the service (docs/security.md, "Storage bounds"): every interval, off the request path,
 * it deletes audit events older than the retention and attempt counters whose window has ended, in small batches
 * with a pause between them, so a large backlog never holds the database (or the event loop) for long. Its timer
 * keeps no process alive; `stop()` ends it and waits for a batch in progress.
 */
import type { Clock } from '../../core/index.js'
import type { StorageBounds } from './store.js'

export interface PrunerOptions {
  readonly retentionDays: number
  /** The attempt counters' window: a counter whose window started this long ago counts nothing any more. */
  readonly lockoutWindowSeconds: number
  readonly clock: Clock
  /** Default 60 s. */
  readonly intervalMs?: number
  /** Rows per DELETE (default 500): one short statement each. */
  readonly batchSize?: number
  /** Batches per run at most (default 200): a backlog larger than that is worked off over the next runs. */
  readonly maxBatchesPerRun?: number
  /** Pause between two batches (default 20 ms): the request path's writes go in between. */
  readonly pauseMs?: number
  /** Told what a run deleted (when it deleted anything), or why it failed; the next run tries again. */
  readonly onRun?: (outcome: { readonly auditEvents: number; readonly attemptCounters: number } | { readonly error: unknown }) => void
}

export interface StoragePruner {
  /** One run now (what the timer does); answers what it deleted. */
  runOnce(): Promise<{ auditEvents: number; attemptCounters: number }>
  stop(): Promise<void>
}

const DAY_SECONDS = 86_400

export const startStoragePruner = (store: StorageBounds, options: PrunerOptions): StoragePruner => {
  const batch = options.batchSize ?? 500
  const maxBatches = options.maxBatchesPerRun ?? 200
  const pauseMs = options.pauseMs ?? 20
  let stopped = false
  let running: Promise<{ auditEvents: number; attemptCounters: number }> | undefined

  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, pauseMs).unref())

  /** Deletes batch after batch until one comes back short, the run's budget is spent, or the pruner stops. */
  const drain = async (deleteBatch: () => Promise<number>, budget: number): Promise<number> => {
    let total = 0
    for (let i = 0; i < budget && !stopped; i++) {
      const n = await deleteBatch()
      total += n
      if (n < batch) break
      await pause()
    }
    return total
  }

  const run = async () => {
    const now = options.clock.nowSeconds()
    const auditEvents = await drain(() => store.pruneAuditEvents(now - options.retentionDays * DAY_SECONDS, now, batch), maxBatches)
    const attemptCounters = await drain(() => store.pruneAttemptCounters(now - options.lockoutWindowSeconds, batch), maxBatches)
    return { auditEvents, attemptCounters }
  }

  const runOnce = () =>
    (running ??= run().finally(() => {
      running = undefined
    }))

  const timer = setInterval(() => {
    runOnce().then(
      (r) => {
        if (r.auditEvents + r.attemptCounters > 0) options.onRun?.(r)
      },
      (error: unknown) => options.onRun?.({ error }),
    )
  }, options.intervalMs ?? 60_000)
  timer.unref()

  return {
    runOnce,
    stop: async () => {
      stopped = true
      clearInterval(timer)
      await running?.catch(() => undefined)
    },
  }
}
