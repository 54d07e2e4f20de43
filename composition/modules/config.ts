/**
 * @module modules/config
 * The config family: the decoded settings, the clock, and the lock-out policy they name (which the limiter and
 * `lockouts list` both read, so that the CLI counts thresholds as the service does).
 */
import { systemClock } from '../../adapters/clock/system-clock.js'
import type { Config } from '../config.js'
import { serviceModule } from '../binder.js'
import { TYPES } from '../services.js'

export const configModule = (config: Config) =>
  serviceModule((b) => {
    b.value(TYPES.Config, config)
    b.value(TYPES.Clock, systemClock)
    b.sync(TYPES.LockoutPolicy, (r) => {
      const c = r.get(TYPES.Config)
      return {
        windowSeconds: c.lockoutWindowSeconds,
        thresholds: { identifier: c.lockoutIdentifierThreshold, key: c.lockoutKeyThreshold, address: c.lockoutAddressThreshold },
      }
    })
  })
