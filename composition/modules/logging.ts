/**
 * @module modules/logging
 * The logging family: the application log (pino JSON lines, composition/logger.ts), imported when first resolved so
 * that the CLI's commands that log nothing do not load pino.
 */
import { serviceModule } from '../binder.js'
import { TYPES } from '../services.js'

export const loggingModule = serviceModule((b) => {
  b.async(TYPES.Logger, async (r) => (await import('../logger.js')).createLogger(r.get(TYPES.Config).logLevel))
})
