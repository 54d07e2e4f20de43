/**
 * @module logger
 * The application log: pino JSON lines. The first line of defence for secrets is that no code logs a request's
 * headers, query or body; the second is the redaction list; the third is the error serializer, because an
 * exception's message can quote the input that caused it (JSON.parse does), and no path list can reach into a string.
 */
import { pino, type DestinationStream, type Logger } from 'pino'

export const REDACTED_PATHS = [
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization',
  'cookie', '*.cookie', 'headers.cookie', '*.headers.cookie',
  'token', '*.token', 'jwt', '*.jwt', 'pass_code', '*.pass_code', 'passCode', '*.passCode',
  'authentication_code', '*.authentication_code', 'authenticationCode', '*.authenticationCode',
  'access_token_identifier', '*.access_token_identifier',
  'key', '*.key', 'secret', '*.secret', 'secrets', '*.secrets', 'pepper', '*.pepper', 'privateJwk', '*.privateJwk',
  'body', '*.body', 'query', '*.query',
]

/**
 * Masks what in a message may be a secret: quoted text (where parsers and most libraries put the input), JWS/JWT
 * compact strings, Basic credentials, and long hex or base64 runs (keys, digests, secrets).
 */
const MASKS: ReadonlyArray<RegExp> = [
  /"(?:[^"\\\n]|\\.)*"/g,
  /'(?:[^'\\\n]|\\.)*'/g,
  /`[^`\n]*`/g,
  /\b[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  /\b(Basic|Bearer)\s+\S+/gi,
  // 32+ characters of a key or base64 alphabet with a digit in them; '/' is left out so that file paths in stacks stay.
  /\b(?=[A-Za-z+_-]*\d)[A-Za-z0-9+_-]{32,}={0,2}/g,
]

export const maskSecrets = (text: string): string =>
  MASKS.reduce((t, re) => t.replace(re, (m) => (/^(Basic|Bearer)\s/i.test(m) ? `${m.split(/\s/)[0]} [masked]` : '[masked]')), text)

/**
 * Errors as type, code, masked message and masked stack, and their cause chain; never their other own properties,
 * where libraries keep requests, parameters and configs.
 */
export const safeError = (err: unknown, depth = 0): unknown => {
  if (!(err instanceof Error)) return typeof err === 'string' ? maskSecrets(err) : err === undefined || err === null ? err : `[${typeof err}]`
  const code = (err as { code?: unknown }).code
  return {
    type: err.name,
    message: maskSecrets(err.message),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(err.stack ? { stack: maskSecrets(err.stack) } : {}),
    ...(err.cause !== undefined && depth < 3 ? { cause: safeError(err.cause, depth + 1) } : {}),
  }
}

export const createLogger = (level: string, destination?: DestinationStream): Logger =>
  pino(
    {
      level,
      base: { service: 'consumer-auth' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: safeError, cause: safeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  )
