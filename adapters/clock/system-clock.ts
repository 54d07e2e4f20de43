/**
 * @module clock
 * The system clock as the core's Clock port: now in whole seconds since the epoch, the unit of JWT times.
 */
import type { Clock } from '../../core/index.js'

/** Truncates (never rounds up), so a token is never stamped with a second that has not begun yet. */
export const systemClock: Clock = {
  nowSeconds: () => Math.floor(Date.now() / 1000),
}
