/**
 * Counts one attempt against a store's counter as a failure of the lock-out does, for tests that need counts in
 * place: a claim (core/lockout.ts afterClaim) with a limit no test reaches, so it is never refused.
 */
import type { AttemptCount, AttemptCounters } from '../../adapters/store/store.js'

export const addAttempt = async (store: AttemptCounters, subject: string, now: number, windowSeconds: number): Promise<AttemptCount> => {
  const c = await store.claimAttempt(subject, { now, staleAtOrBefore: now - windowSeconds, limit: 1_000_000 })
  if (c === undefined) throw new Error(`addAttempt: the claim on ${subject} was refused`)
  return c
}
