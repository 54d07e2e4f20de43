/**
 * @module modules/logging
 * The logging family: the application log (pino JSON lines, composition/logger.ts) at the config's level.
 */
import { serviceModule } from '../binder.js'
import { createLogger } from '../logger.js'
import { TYPES } from '../services.js'

export const loggingModule = serviceModule((b) => {
  b.sync(TYPES.Logger, (r) => createLogger(r.get(TYPES.Config).logLevel))
})
