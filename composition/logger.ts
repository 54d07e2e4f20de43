/**
 * @module logger
 * The application log: pino JSON lines. The first line of defence for secrets is that no code logs a request's
 * headers, query or body; the second is the redaction of fields named like secrets; the third is the error serializer, because an
 * exception's message can quote the input that caused it (JSON.parse does), and no path list can reach into a string.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import { logDestination } from './log-destination.js'

/**
 * Fields that are censored wherever a log call puts them: at the top of the logged object and inside nested plain
 * objects and arrays (to a depth of 4), e.g. `token`, `req.headers.authorization`, `access_token_identifier`.
 */
export const REDACTED_FIELDS: ReadonlySet<string> = new Set([
  'authorization', 'cookie', 'token', 'jwt', 'pass_code', 'passCode', 'authentication_code', 'authenticationCode',
  'access_token_identifier', 'key', 'secret', 'secrets', 'pepper', 'privateJwk', 'body', 'query',
])
const CENSOR = '[redacted]'
const MAX_DEPTH = 4
/** Their serializers (safeError) write only what is safe, so they are not walked here. */
const SERIALIZED = new Set(['err', 'cause'])

/**
 * The object with every redacted field censored: the same object when it holds none (the common case, no copy),
 * else a copy. It walks what JSON.stringify would write, plain objects, arrays and class instances alike (their own
 * enumerable properties), but not values that serialise themselves (toJSON: Date, Buffer).
 *
 * This replaces pino's path-based `redact` option: with wildcard paths (`*.token`) that cost about 14 µs per line,
 * more than the rest of a request's logging, while this check costs well under 1 µs for a request line.
 */
const scrub = (value: unknown, depth: number): unknown => {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      const w = scrub(v, depth + 1)
      if (w !== v) (out ??= [...value])[i] = w
    }
    return out ?? value
  }
  let out: Record<string, unknown> | undefined
  const o = value as Record<string, unknown>
  for (const k of Object.keys(o)) {
    const v = o[k]
    const w = REDACTED_FIELDS.has(k) ? (v === undefined ? v : CENSOR) : depth === 0 && SERIALIZED.has(k) ? v : scrub(v, depth + 1)
    if (w !== v) (out ??= { ...o })[k] = w
  }
  return out ?? value
}

export const redactFields = (obj: Record<string, unknown>): Record<string, unknown> => scrub(obj, 0) as Record<string, unknown>

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
const safeError = (err: unknown, depth = 0): unknown => {
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

let cachedSecond = Number.NaN
let cachedPrefix = ''

/**
 * pino's `isoTime` (`,"time":"2026-01-02T03:04:05.678Z"`, byte for byte), with the date formatted once per second
 * instead of once per line: `toISOString()` was a tenth of the cost of a request line.
 */
export const isoTimeAt = (now: number): string => {
  const second = Math.floor(now / 1000)
  if (second !== cachedSecond) {
    // Up to and with the dot: "YYYY-MM-DDTHH:mm:ss."
    const iso = new Date(second * 1000).toISOString()
    cachedPrefix = `,"time":"${iso.slice(0, iso.length - 4)}`
    cachedSecond = second
  }
  const ms = now - second * 1000
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`
}

const isoTime = (): string => isoTimeAt(Date.now())

/**
 * A logger that can also write a line whose own fields are already JSON text (see RequestLogger.infoFields in
 * adapters/http/request-log.ts): the request line, written once per request, skips pino's per-call work (the merge
 * object, the formatter's walk, the serializers' look-ups, the per-value stringify).
 */
export type ServiceLogger = Logger & { infoFields(fields: string, msg: string): void }

const { lsCacheSym, timeSym, chindingsSym, streamSym, endSym, messageKeySym, needsMetadataGsym } = pino.symbols
const INFO = 30

/**
 * Byte for byte the line pino writes for `info(JSON.parse(`{${fields}}`), msg)`: its level, time and bindings (a
 * child's own, censored when it was made), the fields, the message. The fields must need no redaction (their names
 * are not in REDACTED_FIELDS) and no serializer (no `err`). A destination that wants each line's metadata
 * (pino.multistream) gets the ordinary call. `messageKey` is the JSON text of the logger's message key, made once:
 * children share their root's (pino has no child option for it).
 */
const infoFieldsWith = (messageKey: string) =>
  function infoFields(this: Logger, fields: string, msg: string): void {
    if (this.levelVal > INFO) return
    const self = this as unknown as Record<symbol, unknown>
    const stream = self[streamSym] as DestinationStream & Record<symbol, unknown>
    if (stream[needsMetadataGsym] === true) return this.info(JSON.parse(`{${fields}}`) as object, msg)
    const levelPrefix = (self[lsCacheSym] as Record<number, string>)[INFO]!
    const time = (self[timeSym] as () => string)()
    stream.write(`${levelPrefix}${time}${self[chindingsSym] as string},${fields},${messageKey}:${JSON.stringify(msg)}${self[endSym] as string}`)
  }

export const createLogger = (level: string, destination?: DestinationStream): ServiceLogger => {
  const logger = pino(
    {
      level,
      base: { service: 'consumer-auth' },
      formatters: { log: redactFields, bindings: redactFields },
      serializers: { err: safeError, cause: safeError },
      timestamp: isoTime,
    },
    destination ?? logDestination(),
  )
  // pino gives children no bindings formatter of their own: their bindings are censored here (children inherit this).
  const child = logger.child
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactFields(bindings), options)
  } as Logger['child']
  // On the instance: pino's children are made from it (Object.create), so they have it too, with their own bindings.
  return Object.assign(logger, { infoFields: infoFieldsWith(JSON.stringify((logger as unknown as Record<symbol, unknown>)[messageKeySym])) })
}
