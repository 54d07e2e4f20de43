/**
 * @module logger
 * The application log: pino JSON lines, with a redaction list as a second line of defence; the first is that no
 * code logs a request's headers, query or body.
 */
import { pino, type DestinationStream, type Logger } from 'pino'

export const REDACTED_PATHS = [
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'token', '*.token', 'jwt', '*.jwt', 'pass_code', '*.pass_code', 'passCode', '*.passCode',
  'authentication_code', '*.authentication_code', 'authenticationCode', '*.authenticationCode',
  'key', '*.key', 'secret', '*.secret', 'pepper', '*.pepper', 'body', '*.body', 'query', '*.query',
]

export const createLogger = (level: string, destination?: DestinationStream): Logger =>
  pino(
    {
      level,
      base: { service: 'consumer-auth' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  )
