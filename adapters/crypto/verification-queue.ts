/**
 * @module verification-queue
 * The bounded queue of pass-code verifications (the core's VerificationQueue). scrypt runs on libuv's thread pool,
 * which jose's WebCrypto signing and verifying and every other asynchronous crypto or fs call share: with as many
 * verifications running as the pool has threads, a `GET .../session` waits behind all of them. So at most
 * `concurrency` verifications run at once (by default one less than the pool and than the cores, so a thread and a
 * core are always free), at most `capacity` wait or run, and an attempt that finds the queue full is refused at once (503) rather than queued
 * without bound. docs/security.md gives the measurements.
 */
import { availableParallelism } from 'node:os'
import type { QueuePlace, VerificationQueue } from '../../core/index.js'

/** libuv's thread pool: UV_THREADPOOL_SIZE when set (read by libuv when the pool starts), else its default of 4. */
const threadPoolSize = (env: NodeJS.ProcessEnv = process.env): number => {
  const n = Number(env['UV_THREADPOOL_SIZE'])
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4
}

export interface VerificationBounds {
  /** Verifications running at once. */
  readonly concurrency: number
  /** Verifications waiting or running; past it, attempts are shed. */
  readonly capacity: number
}

/** Waiting or running verifications per running one, when the capacity is `auto`. */
const QUEUE_PER_SLOT = 4

/**
 * The bounds, `auto` derived from the machine: one thread of the pool and one core are always left to everything
 * else (scrypt is CPU-bound: with a verification on every core the event loop waits for the CPU too), and the
 * queue holds a few verifications per running one.
 */
export const verificationBounds = (
  settings: { readonly capacity: number | 'auto'; readonly concurrency: number | 'auto' },
  machine: { readonly poolSize: number; readonly cores: number } = { poolSize: threadPoolSize(), cores: availableParallelism() },
): VerificationBounds => {
  const concurrency = settings.concurrency === 'auto' ? Math.max(1, Math.min(machine.poolSize - 1, machine.cores - 1)) : settings.concurrency
  return { concurrency, capacity: settings.capacity === 'auto' ? QUEUE_PER_SLOT * concurrency : Math.max(settings.capacity, concurrency) }
}

export interface BoundedVerificationQueue extends VerificationQueue {
  readonly bounds: VerificationBounds
  /** Places taken now (waiting or running). */
  inQueue(): number
}

export const boundedVerificationQueue = (bounds: VerificationBounds): BoundedVerificationQueue => {
  let admitted = 0
  let running = 0
  const waiting: Array<() => void> = []
  /** A slot frees: the longest waiting verification takes it. */
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
  const slot = (): Promise<void> => {
    if (running < bounds.concurrency) {
      running++
      return Promise.resolve()
    }
    // The slot is handed over by `release` (running stays as it is).
    return new Promise<void>((resolve) => waiting.push(resolve))
  }
  return {
    bounds,
    inQueue: () => admitted,
    enter(): QueuePlace | undefined {
      if (admitted >= bounds.capacity) return undefined
      admitted++
      let left = false
      const leave = () => {
        if (!left) {
          left = true
          admitted--
        }
      }
      return {
        async run(verification) {
          await slot()
          try {
            return await verification()
          } finally {
            release()
            leave()
          }
        },
        leave,
      }
    },
  }
}
