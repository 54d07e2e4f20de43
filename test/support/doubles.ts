/**
 * The test doubles of the ports every suite needs, written once: a clock the test sets or moves on, and a
 * deterministic digest in place of the deployment's HMAC.
 */
import { createHash } from 'node:crypto'
import { systemClock } from '../../adapters/clock/system-clock.js'
import type { Clock, SecretDigest } from '../../core/index.js'

/** A clock the test controls: reading `now` answers the time, assigning it stops the clock there. */
export interface TestClock extends Clock {
  now: number
  /** Moves the clock on by `seconds`, whether it stands still or runs. */
  advance(seconds: number): void
}

/**
 * `testClock(t)` stands still at `t` (by default the system clock's time when it is made) until the test moves it.
 * `testClock('runs')` runs with the system clock, ahead of it by what it was advanced: for services that also see
 * tokens signed at the system clock's time while the test runs.
 */
export const testClock = (start: number | 'runs' = systemClock.nowSeconds()): TestClock => {
  let at: number | undefined = start === 'runs' ? undefined : start
  let ahead = 0
  const read = () => at ?? systemClock.nowSeconds() + ahead
  return {
    nowSeconds: read,
    get now() {
      return read()
    },
    set now(seconds: number) {
      at = seconds
    },
    advance: (seconds) => {
      if (at === undefined) ahead += seconds
      else at += seconds
    },
  }
}

/**
 * A deterministic keyed digest: not the real HMAC, but like it a fixed-length hex string that never contains the clear
 * text (a digest that did would let a test pass that leaks a secret into a store or a log).
 */
export const fakeDigest: SecretDigest = { digest: (s) => createHash('sha256').update(`pepper\u0000${s}`, 'utf8').digest('hex') }
