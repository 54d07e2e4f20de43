/**
 * @module config
 * The service's configuration (docs/operations.md, docs/configuration.md), decoded eagerly with io-ts from command-line flags over environment
 * variables over defaults. A bad value names its setting; the CLI turns that into exit code 2.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DEFAULT_RELEASE, defaultLockoutPolicy, formatRelease, NOT_A_RELEASE, parseRelease, type Release } from '../core/index.js'
import { parseDatabaseUrl, shownUrl, type DatabaseUrl } from '../adapters/store/database-url.js'

/** One setting: its flag, its environment variable, its default, and the codec its text is decoded with. */
export interface Setting<A> {
  readonly flag: string
  readonly env: string
  readonly default: string | undefined
  readonly codec: t.Decoder<unknown, A>
  readonly help: string
}

const fromText = <A>(name: string, parse: (s: string) => E.Either<string, A>): t.Type<A, unknown, unknown> =>
  new t.Type<A, unknown, unknown>(
    name,
    (_u): _u is A => false,
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, 'must be text')
      const r = parse(u.trim())
      return E.isLeft(r) ? t.failure(u, c, r.left) : t.success(r.right)
    },
    (a) => a,
  )

const integer = (min: number, max: number) =>
  fromText(`Integer[${min},${max}]`, (s) =>
    /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max ? E.right(Number(s)) : E.left(`must be a whole number from ${min} to ${max}`))

/** `auto` (a default derived at start-up) or a whole number. */
const autoOr = (min: number, max: number) =>
  fromText<'auto' | number>(`AutoOrInteger[${min},${max}]`, (s) =>
    s === 'auto' ? E.right('auto') : /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max ? E.right(Number(s)) : E.left(`must be auto or a whole number from ${min} to ${max}`))

const oneOf = <L extends string>(...values: L[]) =>
  fromText(values.join('|'), (s) => (values.includes(s as L) ? E.right(s as L) : E.left(`must be one of ${values.join(', ')}`)))

// parseRelease's message quotes the value, which decodeConfig already does.
const ReleaseText = fromText<Release>('Release', (s) => E.mapLeft(() => NOT_A_RELEASE)(parseRelease(s)))

export type { DatabaseUrl } from '../adapters/store/database-url.js'

const DatabaseUrlText = fromText<DatabaseUrl>('DatabaseUrl', parseDatabaseUrl)

const BasePath = fromText('BasePath', (s) =>
  s === '' || /^(\/[A-Za-z0-9._~-]+)+$/.test(s) ? E.right(s) : E.left('must be empty or a path such as /crmapi/rest/v2 (no trailing slash)'))

/** Browser origins, comma-separated: each `scheme://host[:port]` exactly as a browser sends it, never `*`. */
const OriginList = fromText<ReadonlyArray<string>>('OriginList', (s) => {
  const origins = s.split(',').map((o) => o.trim()).filter((o) => o !== '')
  for (const o of origins) {
    let canonical: string | undefined
    try {
      canonical = new URL(o).origin
    } catch {
      canonical = undefined
    }
    if (canonical !== o || !/^https?:/.test(o)) return E.left(`has ${JSON.stringify(o)}, which is not an origin such as https://portal.example.com (scheme, host and port only, no path, no *)`)
  }
  return E.right([...new Set(origins)])
})

const Text = fromText('Text', (s) => (s === '' ? E.left('must not be empty') : E.right(s)))
const Flag = fromText('Boolean', (s) =>
  ['1', 'true', 'yes', 'on'].includes(s.toLowerCase()) ? E.right(true) : ['0', 'false', 'no', 'off'].includes(s.toLowerCase()) ? E.right(false) : E.left('must be true or false'))

export const settings = {
  port: { flag: 'port', env: 'PORT', default: '3000', codec: integer(0, 65535), help: 'TCP port to listen on (0 picks a free one)' },
  opsPort: { flag: 'ops-port', env: 'OPS_PORT', default: undefined, codec: integer(0, 65535), help: 'a port of its own for /metrics, /health/* and /openapi.json (default: served on PORT)' },
  host: { flag: 'host', env: 'HOST', default: '::', codec: Text, help: 'address to listen on' },
  db: { flag: 'db', env: 'DATABASE_URL', default: 'sqlite:./data/consumer-auth.db', codec: DatabaseUrlText, help: 'sqlite:PATH or a postgres:// URL' },
  release: { flag: 'release', env: 'CRM_RELEASE', default: formatRelease(DEFAULT_RELEASE), codec: ReleaseText, help: 'the CRM.COM release implemented (R<major>.<minor>.<patch>)' },
  basePath: { flag: 'base-path', env: 'BASE_PATH', default: '/crmapi/rest/v2', codec: BasePath, help: 'path prefix of the Web API routes' },
  claimTimes: { flag: 'claim-times', env: 'CLAIM_TIMES', default: 'number', codec: oneOf('number', 'string'), help: 'iat/exp as JSON numbers (RFC 7519) or strings (as the documented example)' },
  httpStatus: { flag: 'http-status', env: 'HTTP_STATUS', default: 'standard', codec: oneOf('standard', 'envelope'), help: '"envelope" answers every failure with HTTP 200 and the error envelope' },
  lockoutWindowSeconds: { flag: 'lockout-window', env: 'LOCKOUT_WINDOW_SECONDS', default: String(defaultLockoutPolicy.windowSeconds), codec: integer(1, 86400), help: 'window in which failed authentications are counted' },
  lockoutIdentifierThreshold: { flag: 'lockout-identifier', env: 'LOCKOUT_IDENTIFIER_THRESHOLD', default: String(defaultLockoutPolicy.thresholds.identifier), codec: integer(1, 1_000_000), help: 'failures per identifier before lock-out' },
  lockoutKeyThreshold: { flag: 'lockout-key', env: 'LOCKOUT_KEY_THRESHOLD', default: String(defaultLockoutPolicy.thresholds.key), codec: integer(1, 1_000_000), help: 'failures per key before lock-out' },
  lockoutAddressThreshold: { flag: 'lockout-address', env: 'LOCKOUT_ADDRESS_THRESHOLD', default: String(defaultLockoutPolicy.thresholds.address), codec: integer(1, 1_000_000), help: 'failures per client address (keyless modes) before lock-out' },
  passCodeConcurrency: { flag: 'passcode-concurrency', env: 'PASSCODE_CONCURRENCY', default: 'auto', codec: autoOr(1, 1024), help: 'pass-code verifications (scrypt) running at once (auto: one less than the libuv thread pool and than the cores, at least 1)' },
  passCodeQueue: { flag: 'passcode-queue', env: 'PASSCODE_QUEUE_LIMIT', default: 'auto', codec: autoOr(1, 100_000), help: 'pass-code verifications waiting or running; beyond, attempts get 503 with Retry-After: 1 at once (auto: 4 per running one)' },
  secretsFile: { flag: 'secrets-file', env: 'SECRETS_FILE', default: undefined, codec: Text, help: 'JSON file with the signing key ring and the digest pepper' },
  secrets: { flag: 'secrets', env: 'CONSUMER_AUTH_SECRETS', default: undefined, codec: Text, help: 'the secrets JSON itself (instead of a file)' },
  signingAlg: { flag: 'signing-alg', env: 'SIGNING_ALG', default: 'HS256', codec: oneOf('HS256', 'ES256', 'EdDSA'), help: 'algorithm of the signing key when secrets are generated (ES256/EdDSA publish /.well-known/jwks.json); a given key ring keeps its own' },
  demo: { flag: 'demo', env: 'DEMO_SEED', default: 'true', codec: Flag, help: 'seed the documented example on first start (off with --no-demo or NODE_ENV=production)' },
  trustProxy: { flag: 'trust-proxy', env: 'TRUST_PROXY', default: 'false', codec: Flag, help: 'take the client address from the last X-Forwarded-For entry (the one the trusted proxy appended)' },
  revocationCheck: { flag: 'revocation-check', env: 'REVOCATION_CHECK', default: 'false', codec: Flag, help: 'refuse sessions whose key or access token was revoked since' },
  revocationCacheSeconds: { flag: 'revocation-cache', env: 'REVOCATION_CACHE_SECONDS', default: '30', codec: integer(0, 86400), help: 'how long a revocation answer is cached (0: ask the store every time)' },
  corsOrigins: { flag: 'cors-origins', env: 'CORS_ORIGINS', default: '', codec: OriginList, help: 'browser origins (comma-separated) allowed to call the token, session and release routes (CORS); none by default' },
  identityMaxLifetimeSeconds: { flag: 'identity-max-lifetime', env: 'IDENTITY_MAX_LIFETIME_SECONDS', default: '86400', codec: integer(60, 31_536_000), help: 'longest lifetime of an identity-provider JWT (exp - iat, or exp - now without iat); longer ones are refused' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', default: 'info', codec: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), help: 'pino log level' },
  auditRetentionDays: { flag: 'audit-retention-days', env: 'AUDIT_RETENTION_DAYS', default: '90', codec: integer(1, 36500), help: 'days audit events are kept; the service prunes older ones in small batches (a session\'s issued event stays until the session has expired)' },
  shutdownGraceSeconds: { flag: 'shutdown-grace', env: 'SHUTDOWN_GRACE_SECONDS', default: '10', codec: integer(0, 3600), help: 'how long in-flight requests may take to finish on SIGTERM' },
} satisfies Record<string, Setting<any>>

type Settings = typeof settings
export type Config = { readonly [K in keyof Settings]: Settings[K]["default"] extends string ? t.TypeOf<Settings[K]["codec"]> : t.TypeOf<Settings[K]["codec"]> | undefined } & {
  readonly production: boolean
}

/** Flags as parsed from the command line: `--no-demo` arrives as { demo: 'false' }. */
export type Flags = Readonly<Record<string, string | undefined>>

/** A bad value as the message shows it: never a secret, never a URL's password. */
const shown = (name: string, raw: string): string =>
  name === 'secrets' ? '(the value)' : JSON.stringify(shownUrl(raw))

/** How a bad flag is named in the message: by its flag and variable by default; createConsumerAuth by its option. */
export type FlagLabel = (setting: Setting<unknown>) => string

const flagAndVariable: FlagLabel = (s) => `--${s.flag} (${s.env}, --${s.flag})`

/** Decodes every setting; the first bad one is reported by flag and variable name, with the rule it broke. */
export const decodeConfig = (env: NodeJS.ProcessEnv, flags: Flags = {}, label: FlagLabel = flagAndVariable): E.Either<string, Config> => {
  const out: Record<string, unknown> = {}
  for (const [name, s] of Object.entries(settings) as [keyof Settings, Setting<unknown>][]) {
    const fromFlag = flags[s.flag]
    const raw = fromFlag ?? env[s.env] ?? s.default
    if (raw === undefined) continue
    const r = s.codec.decode(raw)
    if (E.isLeft(r)) {
      const source = fromFlag !== undefined ? label(s) : `${env[s.env] !== undefined ? s.env : `the default of ${s.env}`} (${s.env}, --${s.flag})`
      return E.left(`Invalid ${source}: ${shown(name, raw)} ${r.left[0]?.message ?? 'is not valid'}`)
    }
    out[name] = r.right
  }
  const production = env['NODE_ENV'] === 'production'
  if (production && flags['demo'] === undefined && env['DEMO_SEED'] === undefined) out['demo'] = false
  // The demo's key and code are published in the docs: a production service holding them could be logged into by anyone.
  if (production && out['demo'] === true) {
    return E.left('NODE_ENV=production refuses the demo seed (DEMO_SEED=true, --demo): its key and authentication code are public; seed nothing, or run outside production')
  }
  return E.right({ ...(out as Omit<Config, 'production'>), production })
}
