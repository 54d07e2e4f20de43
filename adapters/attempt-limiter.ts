/**
 * @module attempt-limiter
 * The AttemptLimiter port over a store's attempt counters (SPEC 4): one threshold per kind of subject within one
 * window. Counts live in the store, so a lock-out holds across restarts and across instances sharing a database.
 */
import type { AttemptLimiter, AttemptSubject } from '../core/index.js'
import type { AttemptCounters } from './store.js'

export interface LockoutPolicy {
  readonly windowSeconds: number
  readonly thresholds: Readonly<Record<AttemptSubject['kind'], number>>
}

export const defaultLockoutPolicy: LockoutPolicy = {
  windowSeconds: 15 * 60,
  thresholds: { identifier: 5, key: 100, address: 20 },
}

/** The attempt-counter row a subject's failures are kept in (also what `lockouts clear` clears). */
export const subjectKey = (s: AttemptSubject) => `${s.kind}:${s.id}`

export const storeAttemptLimiter = (counters: AttemptCounters, policy: LockoutPolicy = defaultLockoutPolicy): AttemptLimiter => ({
  async lockedFor(subjects, now) {
    let wait: number | undefined
    for (const s of subjects) {
      const c = await counters.getAttempts(subjectKey(s))
      if (c && c.failures >= policy.thresholds[s.kind] && c.windowStart > now - policy.windowSeconds) {
        wait = Math.max(wait ?? 0, c.windowStart + policy.windowSeconds - now)
      }
    }
    return wait
  },
  async recordFailure(subjects, now) {
    const locked: AttemptSubject[] = []
    for (const s of subjects) {
      const c = await counters.incrementAttempts(subjectKey(s), now, policy.windowSeconds)
      if (c.failures === policy.thresholds[s.kind]) locked.push(s)
    }
    return locked
  },
  async claim(s, now) {
    const c = await counters.incrementAttempts(subjectKey(s), now, policy.windowSeconds)
    const threshold = policy.thresholds[s.kind]
    return c.failures > threshold
      ? { refusedFor: Math.max(1, c.windowStart + policy.windowSeconds - now) }
      : { reachesThreshold: c.failures === threshold }
  },
  async reset(subject) {
    await counters.clearAttempts(subjectKey(subject))
  },
})
