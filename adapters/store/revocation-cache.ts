/**
 * @module revocation-cache
 * A RevocationCheck (docs/behaviour.md, the token: verification) in front of another, usually the store's: each session's answer is kept for
 * `lifetimeSeconds`, so that a service verifying many requests of one session asks the store about it once per
 * lifetime. A revocation thus takes effect within `lifetimeSeconds` at the latest; 0 asks every time.
 *
 * - Bounded: at most `maxEntries` sessions are remembered; the least recently asked (and expired ones) go first.
 * - Concurrent questions about one session share one store call.
 * - A failing check (the store is down) is not remembered: the next question asks again.
 */
import type { Clock, RevocationCheck } from '../../core/index.js'

export interface RevocationCacheOptions {
  /** At most this many sessions are remembered (default 10 000). */
  readonly maxEntries?: number
}

const DEFAULT_REVOCATION_CACHE_ENTRIES = 10_000

interface Entry {
  /** Whole seconds since the epoch until which the answer may be used. */
  readonly until: number
  readonly answer: Promise<boolean>
}

export const cachedRevocationCheck = (
  check: RevocationCheck,
  clock: Clock,
  lifetimeSeconds: number,
  options: RevocationCacheOptions = {},
): RevocationCheck => {
  if (!Number.isFinite(lifetimeSeconds) || lifetimeSeconds < 0) throw new RangeError('lifetimeSeconds must be 0 or more')
  if (lifetimeSeconds === 0) return check
  const maxEntries = options.maxEntries ?? DEFAULT_REVOCATION_CACHE_ENTRIES
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a whole number of at least 1')
  // A Map iterates in insertion order; an entry is re-inserted when used, so the first one is the least recently used.
  const entries = new Map<string, Entry>()

  /** Drops from the front (least recently used, mostly the oldest): expired answers, then as many as room needs. O(1) amortised. */
  const makeRoom = (now: number) => {
    for (const [id, e] of entries) {
      if (e.until > now && entries.size < maxEntries) break
      entries.delete(id)
    }
  }

  return {
    isRevoked(sessionId: string, nowSeconds: number): Promise<boolean> {
      const now = clock.nowSeconds()
      const known = entries.get(sessionId)
      if (known && now < known.until) {
        entries.delete(sessionId)
        entries.set(sessionId, known)
        return known.answer
      }
      if (known) entries.delete(sessionId)
      makeRoom(now)
      const answer = check.isRevoked(sessionId, nowSeconds)
      const entry: Entry = { until: now + lifetimeSeconds, answer }
      entries.set(sessionId, entry)
      answer.catch(() => {
        if (entries.get(sessionId) === entry) entries.delete(sessionId)
      })
      return answer
    },
  }
}
