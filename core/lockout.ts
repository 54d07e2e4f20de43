/**
 * @module lockout
 * The lock-out, written once: which failures count, the subjects an attempt is counted against (identifier, key,
 * client address), the thresholds and window and their defaults, and the claim an attempt makes on each of its
 * subjects before its credential is checked. Everything here is a pure function over counts except `attemptLimiter`,
 * which asks the store's one atomic primitive (AttemptCounter) once per subject: because the attempt is counted
 * before the check, a burst of N concurrent attempts against a subject with k attempts left checks at most k
 * credentials, on every store and across instances sharing one database (docs/security.md).
 */
import type { AuthError } from './errors.js'

export type SubjectKind = 'identifier' | 'key' | 'address'

/** Who failed attempts are counted against. */
export interface AttemptSubject {
  readonly kind: SubjectKind
  /** Not a secret: an organisation-qualified identifier, a key digest, or a client address. */
  readonly id: string
}

export interface LockoutPolicy {
  /** A window starts at the first failure counted in it and lasts this long; it does not slide. */
  readonly windowSeconds: number
  /** Failures per subject within one window before the subject is locked out until the window ends. */
  readonly thresholds: Readonly<Record<SubjectKind, number>>
}

/** The defaults of the settings table (composition/config.ts takes them from here). */
export const defaultLockoutPolicy: LockoutPolicy = {
  windowSeconds: 15 * 60,
  thresholds: { identifier: 5, key: 100, address: 20 },
}

/** Failures that count as a failed authentication; validation errors, refused units and outages do not. */
export const countsAsFailedAttempt = (e: AuthError): boolean =>
  e.name === 'INVALIDAPPLICATIONKEY' || e.name === 'INVALIDACCESSTOKEN' || e.name === 'INVALIDIDENTITYTOKEN' || e.name === 'INVALIDORGANISATION'

/**
 * An identifier is counted per organisation. The organisation is percent-encoded, so it holds no `/` and the first
 * `/` ends it: `x/y` with `z` and `x` with `y/z` are two subjects (`x%2Fy/z`, `x/y/z`). Organisations made of
 * letters, digits and `-_.!~*'()` read as they are (`ps_dev/maria`).
 */
export const identifierSubject = (organisation: string, identifier: string): AttemptSubject => ({
  kind: 'identifier',
  id: `${encodeURIComponent(organisation)}/${identifier}`,
})
export const keySubject = (keyDigest: string): AttemptSubject => ({ kind: 'key', id: keyDigest })
export const addressSubject = (clientAddress: string): AttemptSubject => ({ kind: 'address', id: clientAddress })

/** The name of a subject's counter in the store: the kind holds no `:`, so the first `:` ends it. */
export const counterKey = (s: AttemptSubject): string => `${s.kind}:${s.id}`

/** A subject's counter: attempts counted in the window that began at `windowStart`. */
export interface AttemptCount {
  readonly failures: number
  readonly windowStart: number
}

/** What a claim asks of a counter, computed here so that every store applies the same arithmetic. */
export interface CounterClaim {
  readonly now: number
  /** A window that began at or before this moment is over (`now - windowSeconds`). */
  readonly staleAtOrBefore: number
  /** The claim is refused when the current window already counts this many. */
  readonly limit: number
}

export const counterClaim = (policy: LockoutPolicy, kind: SubjectKind, now: number): CounterClaim => ({
  now,
  staleAtOrBefore: now - policy.windowSeconds,
  limit: policy.thresholds[kind],
})

/**
 * The rule of the claim, which each store applies atomically (the memory store calls this; the SQL stores run it as
 * one upsert): a counter without a current window starts one at 1; one below the limit adds 1; one at the limit
 * refuses (undefined) and stays as it is, so refused attempts cost no write and never inflate the count.
 */
export const afterClaim = (current: AttemptCount | undefined, c: CounterClaim): AttemptCount | undefined => {
  if (current === undefined || current.windowStart <= c.staleAtOrBefore) return { failures: 1, windowStart: c.now }
  return current.failures < c.limit ? { failures: current.failures + 1, windowStart: current.windowStart } : undefined
}

/**
 * Giving a claim back takes one off the window it was counted in, and nothing off a window started since; a counter
 * left at 0 counts nothing and is removed (undefined), so successful logins leave no rows behind.
 */
export const afterGiveBack = (current: AttemptCount | undefined, windowStart: number): AttemptCount | undefined => {
  if (current === undefined || current.windowStart !== windowStart || current.failures <= 0) return current
  return current.failures === 1 ? undefined : { failures: current.failures - 1, windowStart }
}

/** Seconds until a locked-out subject may try again: the rest of its window, at least 1. */
export const retryAfterSeconds = (windowStart: number, now: number, windowSeconds: number): number =>
  Math.max(1, windowStart + windowSeconds - now)

/**
 * What a success does to a claim. An identifier's count starts again (its owner proved they know the pass code);
 * a key's or address's claim is only given back: one user's success says nothing of the other attempts made with
 * that key or from that address.
 */
export const onSuccess: Readonly<Record<SubjectKind, 'reset' | 'giveBack'>> = { identifier: 'reset', key: 'giveBack', address: 'giveBack' }

/** The store's atomic counter: the only part of the lock-out a store implements. */
export interface AttemptCounter {
  /** Applies `afterClaim` atomically (across instances sharing the database too): the count after, or undefined when refused. */
  claimAttempt(key: string, claim: CounterClaim): Promise<AttemptCount | undefined>
  /** Applies `afterGiveBack` atomically (a counter left at 0 may be removed at once or later: it counts nothing). */
  giveBackAttempt(key: string, windowStart: number): Promise<void>
  clearAttempts(key: string): Promise<void>
  getAttempts(key: string): Promise<AttemptCount | undefined>
}

/** One attempt counted against one subject, before its credential was checked. */
export interface Claim {
  readonly subject: AttemptSubject
  readonly windowStart: number
  /** Whether this attempt, if it fails, is the one that locks the subject out (audited once). */
  readonly reachesThreshold: boolean
}

export type ClaimOutcome = { readonly granted: ReadonlyArray<Claim> } | { readonly granted?: undefined; readonly refusedFor: number }

export interface AttemptLimiter {
  /**
   * Claims an attempt on every subject at once. When any is refused, the others are given back and the attempt is
   * refused (for the longest wait) without its credential being checked; a refused attempt counts nowhere.
   */
  claim(subjects: ReadonlyArray<AttemptSubject>, now: number): Promise<ClaimOutcome>
  /** The credential was right: each claim is reset or given back (`onSuccess`). */
  succeeded(claims: ReadonlyArray<Claim>): Promise<void>
  /** The attempt ended without a verdict on its credential (an outage, a refused sibling claim): every claim goes back. */
  giveBack(claims: ReadonlyArray<Claim>): Promise<void>
}

export const attemptLimiter = (counter: AttemptCounter, policy: LockoutPolicy = defaultLockoutPolicy): AttemptLimiter => {
  const giveBackOne = (c: Claim) => counter.giveBackAttempt(counterKey(c.subject), c.windowStart)
  const claimOne = async (subject: AttemptSubject, now: number): Promise<Claim | { refusedFor: number }> => {
    const key = counterKey(subject)
    const count = await counter.claimAttempt(key, counterClaim(policy, subject.kind, now))
    if (count !== undefined) return { subject, windowStart: count.windowStart, reachesThreshold: count.failures === policy.thresholds[subject.kind] }
    // Refused: the wait is the rest of the window that refused it (read again: the claim wrote nothing).
    const current = await counter.getAttempts(key)
    return { refusedFor: current ? retryAfterSeconds(current.windowStart, now, policy.windowSeconds) : 1 }
  }
  const giveBack = async (claims: ReadonlyArray<Claim>) => {
    await Promise.all(claims.map(giveBackOne))
  }
  return {
    async claim(subjects, now) {
      if (subjects.length === 1) {
        // One subject (every mode but the pass code): nothing to give back when it is refused.
        const one = await claimOne(subjects[0]!, now)
        return 'refusedFor' in one ? one : { granted: [one] }
      }
      const settled = await Promise.allSettled(subjects.map((s) => claimOne(s, now)))
      const granted = settled.flatMap((o) => (o.status === 'fulfilled' && !('refusedFor' in o.value) ? [o.value] : []))
      if (granted.length === settled.length) return { granted }
      // Some claim was refused or failed: the others must not stay counted for an attempt that is not made.
      await giveBack(granted)
      const failed = settled.find((o) => o.status === 'rejected')
      if (failed) throw failed.reason
      return { refusedFor: Math.max(...settled.map((o) => (o.status === 'fulfilled' && 'refusedFor' in o.value ? o.value.refusedFor : 0))) }
    },
    async succeeded(claims) {
      await Promise.all(claims.map((c) => (onSuccess[c.subject.kind] === 'reset' ? counter.clearAttempts(counterKey(c.subject)) : giveBackOne(c))))
    },
    giveBack,
  }
}
